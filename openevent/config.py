"""``configure(settings)``: the one place where the application is assembled.

pserve (through :func:`openevent.main`), the worker, the CLI and the tests all build the app here,
so they all see the same settings, database wiring and routes.
"""

from pyramid.config import Configurator

from openevent.settings import load_settings


def configure(settings) -> Configurator:
    """Return a Configurator with every openevent feature included and committed."""
    config = Configurator(settings=load_settings(settings))
    # Engine, session factory, request.dbsession, pyramid_tm and pyramid_retry. First, because
    # every later feature may query the database.
    config.include(".db")
    # Change capture and delivery. After .db, whose session factory it listens to; before any
    # feature or plugin that subscribes to changes with its event_id= and attributes= predicates.
    config.include(".changes")
    # Refuse oversized bodies before pyramid_retry copies them.
    config.include(".request_body")
    # Bearer-token identity and ACL authorization; before the API, whose views use them.
    config.include(".security")
    # The job broker and request.enqueue; after the database, whose sessions carry the outbox.
    config.include(".jobs")
    # File storage (openevent.storage): registry["openevent.storage"], request.storage, in jobs
    # ctx.storage, and GET /files/{key} serving public and signed objects.
    config.include(".storage")
    # config.add_import_media_handler: plugins that store some of an import's media files
    # (the images plugin: photos and logos, as its uploads). Before the plugins are included.
    config.include(".importer.media")
    # The JSON:API under /v1.
    config.include(".api")
    # GET /healthz for load balancers and operators.
    config.include(".health")
    # GET /: the server's name and version, with links to the API description and /healthz.
    config.include(".home")
    # API requests answer 503 while the database is not at the code's revisions; after
    # .health, which works out those revisions, and may refuse to start (a setting).
    config.include(".schema_guard")
    # Installed plugins, LAST: they build on everything above (the database, security, the
    # API's renderer and error views, the /v1 prefix) and may override none of it silently,
    # since a conflicting registration fails at commit. See openevent.plugins.
    config.include(".plugins")
    config.commit()
    return config
