"""Permissions a plugin defines for its own actions: ``config.add_event_permission``."""

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from openevent.models import Role
from openevent.plugins import PLUGINS_KEY, PluginState
from openevent.security import ROLE_PERMISSIONS, Permission, role_permissions


@pytest.fixture
def config():
    """A Configurator with openevent's security, as configure() includes it."""
    config = Configurator(settings={})
    config.include("openevent.security")
    return config


def test_the_sample_plugins_permissions_extend_the_roles_it_names(registry):
    table = role_permissions(registry)
    for role in Role:
        assert set(ROLE_PERMISSIONS[role]) <= set(table[role])  # the core's, untouched
    added = {role: set(table[role]) - set(ROLE_PERMISSIONS[role]) for role in Role}
    assert added == {
        Role.OWNER: {"sample:read-title-changes", "sample:write-notes"},
        Role.ORGANIZER: {"sample:read-title-changes", "sample:write-notes"},
        Role.COORGANIZER: {"sample:write-notes"},
    }


def test_they_are_listed_by_the_introspector(registry):
    found = {
        item["introspectable"].discriminator: item["introspectable"]["roles"]
        for item in registry.introspector.get_category("event permissions")
    }
    assert found["sample:read-title-changes"] == (Role.OWNER, Role.ORGANIZER)


def test_an_app_without_the_plugin_has_none_of_them(app_settings):
    from openevent.config import configure

    config = configure({**app_settings, "openevent.plugins.disabled": "sample"})
    try:
        assert config.registry[PLUGINS_KEY]["sample"].state is PluginState.DISABLED
        table = role_permissions(config.registry)
        assert {role: tuple(table[role]) for role in Role} == ROLE_PERMISSIONS
    finally:
        config.registry["dbengine"].dispose()


def test_a_permission_is_granted_at_commit(config):
    config.add_event_permission("badges:print", roles=("owner", Role.COORGANIZER))
    assert "badges:print" not in role_permissions(config.registry)[Role.OWNER]
    config.commit()
    table = role_permissions(config.registry)
    assert table[Role.OWNER][-1] == table[Role.COORGANIZER][-1] == "badges:print"
    assert "badges:print" not in table[Role.ORGANIZER]


@pytest.mark.parametrize(
    ("permission", "roles", "message"),
    [
        ("print", ("owner",), "must be written plugin:action"),
        ("Badges:Print", ("owner",), "must be written plugin:action"),
        (None, ("owner",), "must be written plugin:action"),
        (Permission.EDIT, ("coorganizer",), "is openevent's own permission"),
        (Permission.VIEW_TEAM, ("owner",), "is openevent's own permission"),
        ("badges:print", ("admin",), "must be among owner, organizer, coorganizer"),
        ("badges:print", (), "must be granted to at least one role"),
    ],
)
def test_a_bad_definition_fails_at_once_with_the_reason(config, permission, roles, message):
    # Raised inside the plugin's includeme: the plugin is then listed as failed with it.
    with pytest.raises(ConfigurationError, match=message):
        config.add_event_permission(permission, roles=roles)


def test_two_plugins_defining_one_permission_conflict(config):
    def first(config):
        config.add_event_permission("badges:print", roles=("owner",))

    def second(config):
        config.add_event_permission("badges:print", roles=("owner", "organizer"))

    config.include(first)
    config.include(second)
    with pytest.raises(ConfigurationConflictError):
        config.commit()
