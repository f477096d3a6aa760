"""openevent: an open event server for conferences and meetups."""

__version__ = "0.1.0"


def main(global_config, **settings):
    """Build the WSGI application; the paste-deploy entry point used by pserve."""
    from openevent.config import configure
    from openevent.settings import SettingsError

    try:
        config = configure(settings)
    except SettingsError as exc:
        # One line naming the key is what an operator needs, not a traceback.
        raise SystemExit(f"openevent: configuration error: {exc}") from None
    return config.make_wsgi_app()
