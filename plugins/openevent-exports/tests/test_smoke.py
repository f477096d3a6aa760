"""The plugin loads, with its routes and its migrations matching its models."""

from alembic import command

from openevent.db.migrations import alembic_config
from openevent.plugins import PLUGINS_KEY, PluginState


def test_the_plugin_is_active(registry):
    assert registry[PLUGINS_KEY]["exports"].state is PluginState.ACTIVE


def test_the_migrations_match_the_models(app_settings, db_connection):
    command.check(alembic_config(app_settings, connection=db_connection))
