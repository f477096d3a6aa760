"""Plugins: discovery through entry points, loading, and per-event enablement.

A plugin is a distribution with an entry point in the ``openevent.plugins`` group. The entry
point's name is the plugin's name; it names a module (or any object) with:

- ``includeme(config)``: run with ``config.include()`` inside ``route_prefix_context("/v1")``,
  so ``config.add_route("x", "/x")`` serves ``/v1/x``;
- ``requires_openevent``: a PEP 440 range of openevent versions it works with (``">=0.1,<0.2"``);
- ``description`` (optional; the distribution's summary otherwise);
- ``migrations`` (optional): its alembic versions folder, as ``"package:folder"`` or a folder
  relative to the entry point's package, holding a branch labelled with the plugin's name.

Version and author come from the distribution's metadata. ``includeme`` here (the last include
of :func:`openevent.config.configure`) loads every allowed plugin and fills
``registry[PLUGINS_KEY]``; a plugin that cannot be imported, is incompatible or whose
``includeme`` raises is skipped with one log line and listed as failed; the others still load.

:func:`plugin_of` and :func:`is_enabled_for_event` are the contract the change delivery and the
job runner rely on. The routes a plugin's ``includeme`` adds answer 404 for events the plugin is
turned off for (see *Routes* at the end), without a check in its views.
"""

from __future__ import annotations

import enum
import importlib.resources
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from openevent import __version__
from openevent.api.errors import NotFound
from openevent.models import EventPlugin

log = logging.getLogger(__name__)

PLUGINS_KEY = "openevent.plugins"
ENTRY_POINT_GROUP = "openevent.plugins"
# Session.info key of the per-session cache of is_enabled_for_event().
_CACHE_KEY = "openevent.event_plugins"


class PluginState(enum.StrEnum):
    ACTIVE = "active"  # loaded: its routes, subscribers and jobs are registered
    DISABLED = "disabled"  # left out by openevent.plugins or openevent.plugins.disabled
    FAILED = "failed"  # could not be loaded; ``reason`` says why


@dataclass(frozen=True)
class PluginInfo:
    """What openevent knows of an installed plugin."""

    name: str
    package: str  # the top-level import package, e.g. "openevent_versions"
    version: str = ""
    author: str = ""
    description: str = ""
    state: PluginState = PluginState.ACTIVE
    reason: str = ""  # why it is disabled or failed
    migrations: str | None = None  # absolute path of its alembic versions folder


def plugin_of(registry, obj) -> str | None:
    """The name of the plugin whose package defines ``obj`` (a function, class or module
    name), or None for openevent's own code."""
    module = obj if isinstance(obj, str) else getattr(obj, "__module__", None) or ""
    for info in registry.get(PLUGINS_KEY, {}).values():
        if module == info.package or module.startswith(info.package + "."):
            return info.name
    return None


def is_enabled_for_event(dbsession, plugin_name: str, event_id: int | None) -> bool:
    """Whether ``plugin_name`` acts for ``event_id``.

    A plugin is enabled for every event unless an ``event_plugins`` row turns it off. Changes
    that belong to no event (``event_id`` None) always reach it. One query (on the primary
    key's index) reads all of an event's rows; the answer is cached in the session until its
    transaction ends or a flush writes ``EventPlugin`` rows, so delivering many changes of one
    event costs one statement.
    """
    if event_id is None:
        return True
    cache = dbsession.info.setdefault(_CACHE_KEY, {})
    if event_id not in cache:
        rows = dbsession.execute(
            select(EventPlugin.plugin, EventPlugin.enabled).where(EventPlugin.event_id == event_id)
        )
        cache[event_id] = {plugin: enabled for plugin, enabled in rows}
    return cache[event_id].get(plugin_name, True)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session, transaction):
    session.info.pop(_CACHE_KEY, None)


@event.listens_for(Session, "after_flush")
def _forget_on_write(session, flush_context):
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, EventPlugin) for obj in changed):
        session.info.pop(_CACHE_KEY, None)


# Discovery


@dataclass(frozen=True)
class _Candidate:
    info: PluginInfo
    includeme: Callable | None = None  # None unless the plugin is active so far


def _failed(info: PluginInfo, reason: str) -> _Candidate:
    return _Candidate(replace(info, state=PluginState.FAILED, reason=reason))


def _dist_metadata(entry_point: EntryPoint) -> tuple[str, str, str]:
    """(version, author, summary) of the distribution that declares ``entry_point``."""
    dist = entry_point.dist
    if dist is None:
        return "", "", ""
    meta = dist.metadata
    author = meta.get("Author") or meta.get("Author-email") or ""
    return dist.version or "", author, meta.get("Summary") or ""


def _migrations_folder(entry_point: EntryPoint, spec: str) -> Path:
    package, colon, folder = spec.rpartition(":")
    if not colon:
        # Relative to the package of the module the entry point names.
        package, folder = entry_point.module.rpartition(".")[0] or entry_point.module, spec
    path = Path(str(importlib.resources.files(package) / folder))
    if not path.is_dir():
        raise ValueError(f"migrations folder {spec!r} not found (looked in {path})")
    return path


def _load(entry_point: EntryPoint, info: PluginInfo) -> _Candidate:
    try:
        plugin = entry_point.load()
    except Exception as exc:
        return _failed(info, f"import failed: {type(exc).__name__}: {exc}")
    includeme = getattr(plugin, "includeme", None)
    if not callable(includeme):
        return _failed(info, f"{entry_point.value} has no includeme(config)")
    requires = getattr(plugin, "requires_openevent", None) or ""
    try:
        compatible = SpecifierSet(requires).contains(__version__, prereleases=True)
    except InvalidSpecifier:
        return _failed(info, f"requires_openevent {requires!r} is not a PEP 440 version range")
    if not compatible:
        return _failed(info, f"requires openevent {requires}, this is openevent {__version__}")
    migrations = getattr(plugin, "migrations", None)
    try:
        folder = str(_migrations_folder(entry_point, migrations)) if migrations else None
    except (ValueError, ModuleNotFoundError) as exc:
        return _failed(info, str(exc))
    description = getattr(plugin, "description", None) or info.description
    return _Candidate(replace(info, description=description, migrations=folder), includeme)


def _excluded_by(settings: Mapping[str, Any], name: str) -> str:
    allowed = settings.get("openevent.plugins")
    if name in settings.get("openevent.plugins.disabled", ()):
        return "listed in openevent.plugins.disabled"
    if allowed is not None and name not in allowed:
        return "not listed in openevent.plugins"
    return ""


def _discover(settings: Mapping[str, Any]) -> Iterator[_Candidate]:
    """Every installed plugin, by name, loaded unless the settings leave it out.

    ``settings`` are typed (see :func:`openevent.settings.load_settings`). A disabled plugin is
    not even imported, so disabling is also the way out of a plugin that breaks on import.
    """
    seen: set[str] = set()
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        version, author, summary = _dist_metadata(entry_point)
        info = PluginInfo(
            name=entry_point.name,
            package=entry_point.module.partition(".")[0],
            version=version,
            author=author,
            description=summary,
        )
        if entry_point.name in seen:
            reason = f"another distribution already provides a plugin named {info.name!r}"
            yield _failed(info, reason)
            continue
        seen.add(entry_point.name)
        excluded = _excluded_by(settings, info.name)
        if excluded:
            yield _Candidate(replace(info, state=PluginState.DISABLED, reason=excluded))
        else:
            yield _load(entry_point, info)


def discover(settings: Mapping[str, Any]) -> list[PluginInfo]:
    """What is installed, and what would load, without running any ``includeme``."""
    return [candidate.info for candidate in _discover(settings)]


def migration_locations(settings: Mapping[str, Any]) -> list[str]:
    """The alembic versions folders of the plugins that load under ``settings``.

    The schema follows what is installed, allowed, importable and compatible, not whether an
    ``includeme`` happened to raise at some start-up: ``openevent db`` never runs them.
    """
    return [
        info.migrations
        for info in discover(settings)
        if info.state is PluginState.ACTIVE and info.migrations
    ]


def _include(config, includeme: Callable) -> str:
    """Run a plugin's ``includeme``; on failure undo what it did and return the reason.

    Configurator directives (add_route, add_view, add_subscriber, add_request_method, ...) do
    not touch the registry when called: with autocommit off, as in ``configure()``, they append
    an action to the shared ``config.action_state.actions`` list, and nothing runs before
    ``config.commit()``. Truncating that list to its length before the include therefore
    discards exactly the plugin's half-made configuration, conflicts included. The few things
    that act at once (``registry[key] = ...``, ``config.add_settings()``) are restored from a
    snapshot. A plugin must not call ``config.commit()`` itself; that could not be undone.
    """
    registry = config.registry
    actions = config.action_state.actions
    mark = len(actions)
    items = dict(registry)
    settings = dict(registry.settings)
    try:
        # Plugins build on the API: their routes live under /v1 like the core's.
        with config.route_prefix_context("/v1"):
            config.include(includeme)
    except Exception as exc:
        del actions[mark:]
        for key in set(registry) - set(items):
            del registry[key]
        registry.update(items)
        registry.settings.clear()
        registry.settings.update(settings)
        return f"includeme failed: {type(exc).__name__}: {exc}"
    return ""


def includeme(config):
    """Load every allowed plugin and record all of them in ``registry[PLUGINS_KEY]``."""
    settings = config.get_settings()
    plugins: dict[str, PluginInfo] = {}
    config.add_view_deriver(_answer_404_when_off)
    for candidate in _discover(settings):
        info = candidate.info
        if candidate.includeme is not None:
            mark = len(config.action_state.actions)
            error = _include(config, candidate.includeme)
            if error:
                info = replace(info, state=PluginState.FAILED, reason=error)
            else:
                _claim_routes(config, info.name, config.action_state.actions[mark:])
        if info.state is PluginState.FAILED:
            log.error("plugin %s skipped: %s", info.name, info.reason)
        elif info.state is PluginState.DISABLED:
            log.info("plugin %s disabled: %s", info.name, info.reason)
        else:
            log.info("plugin %s %s loaded", info.name, info.version)
        plugins.setdefault(info.name, info)
    for name in sorted(set(settings.get("openevent.plugins") or ()) - set(plugins)):
        log.warning("openevent.plugins lists %s, which is not installed", name)
    config.registry[PLUGINS_KEY] = plugins


# Routes: a plugin's routes answer 404 for the events it is turned off for, whatever their views
# do. Every route its includeme adds is recorded as the plugin's; a view deriver wraps the views
# of those routes (and no other) with the check, after the view's permission check, so callers
# who may not use the route learn nothing of the plugin's state.

_ROUTES_KEY = "openevent.plugin_routes"  # route name -> plugin name


def _claim_routes(config, plugin_name: str, actions: list) -> None:
    """Record the routes among ``actions`` (those of ``plugin_name``'s includeme) as its own."""
    routes = config.registry.setdefault(_ROUTES_KEY, {})
    for action in actions:
        for introspectable in action.get("introspectables", ()):
            if introspectable.category_name == "routes":
                routes[introspectable.discriminator] = plugin_name


def require_route_enabled(request, event) -> None:
    """Raise :class:`~openevent.api.errors.NotFound` if the request's route is a plugin's and
    the plugin is turned off for ``event``; views of plugin routes get this check by themselves,
    code that finds the event elsewhere (a create naming it in its body) calls it."""
    route = request.matched_route
    plugin = route and request.registry.get(_ROUTES_KEY, {}).get(route.name)
    if not plugin or event is None:
        return
    if not is_enabled_for_event(request.dbsession, plugin, event.id):
        raise NotFound(f"the {plugin} plugin is turned off for this event")


def _answer_404_when_off(view, info):
    """View deriver: the views of a plugin's routes check the plugin is on for the event of
    their context (``context.event``: EventContext and the row contexts have it)."""
    if info.options.get("route_name") not in info.registry.get(_ROUTES_KEY, {}):
        return view

    def checked(context, request):
        require_route_enabled(request, getattr(context, "event", None))
        return view(context, request)

    return checked
