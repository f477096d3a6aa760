"""What every sub-command needs: the settings and logging from CONFIG."""

from pyramid.paster import get_appsettings, setup_logging

from openevent.settings import load_settings


def add_config_argument(parser) -> None:
    parser.add_argument(
        "config_uri", metavar="CONFIG", help="the app's ini file, e.g. development.ini"
    )


def load_config(config_uri: str) -> dict:
    """Typed settings of CONFIG's [app:main], with logging set up from the same file."""
    setup_logging(config_uri)
    return load_settings(get_appsettings(config_uri))
