"""openevent: an open event server for conferences and meetups."""

__version__ = "0.1.0"


def main(global_config, **settings):
    """Build the WSGI application; the paste-deploy entry point used by pserve."""
    from openevent.config import configure
    from openevent.schema_guard import CONFIG_FILE_SETTING, StaleSchemaError
    from openevent.settings import SettingsError

    # The ini file's path, for the `openevent db upgrade CONFIG` hint of a stale schema.
    settings.setdefault(CONFIG_FILE_SETTING, global_config.get("__file__"))
    try:
        config = configure(settings)
    except SettingsError as exc:
        # One line naming the key is what an operator needs, not a traceback.
        raise SystemExit(f"openevent: configuration error: {exc}") from None
    except StaleSchemaError as exc:
        raise SystemExit(f"openevent: refusing to start: {exc}") from None
    return config.make_wsgi_app()
