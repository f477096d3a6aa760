"""Plugins: which plugin a piece of code belongs to, and whether it is enabled for an event.

These two functions are the contract the change delivery and the job runner rely on. The
discovery of plugins through entry points fills ``registry[PLUGINS_KEY]``.
"""

from dataclasses import dataclass

PLUGINS_KEY = "openevent.plugins"


@dataclass(frozen=True)
class PluginInfo:
    """What openevent knows of an installed plugin."""

    name: str
    package: str  # the top-level import package, e.g. "openevent_versions"


def plugin_of(registry, obj) -> str | None:
    """The name of the plugin whose package defines ``obj`` (a function, class or module
    name), or None for openevent's own code."""
    module = obj if isinstance(obj, str) else getattr(obj, "__module__", None) or ""
    for info in registry.get(PLUGINS_KEY, {}).values():
        if module == info.package or module.startswith(info.package + "."):
            return info.name
    return None


def is_enabled_for_event(dbsession, plugin_name: str, event_id: int | None) -> bool:
    """Whether ``plugin_name`` acts for ``event_id``; every plugin does until per-event
    settings exist."""
    return True
