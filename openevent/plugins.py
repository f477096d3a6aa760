"""Plugins: discovery through entry points, loading, and per-event enablement.

A plugin is a distribution with an entry point in the ``openevent.plugins`` group. The entry
point's name is the plugin's name; it names a module (or any object) with:

- ``includeme(config)``: run with ``config.include()`` inside ``route_prefix_context("/v1")``,
  so ``config.add_route("x", "/x")`` serves ``/v1/x`` (and ``/x`` inside :func:`site_routes`);
- ``requires_openevent``: a PEP 440 range of openevent versions it works with (``">=0.1,<0.2"``);
- ``description`` (optional; the distribution's summary otherwise);
- ``migrations`` (optional): its alembic versions folder, as ``"package:folder"`` or a folder
  relative to the entry point's package, holding a branch labelled with the plugin's name;
- ``enabled_by_default`` (optional, True unless set): whether it acts for an event whose
  organizers have not turned it on or off;
- ``event_settings`` (optional): its per-event settings, ``{"name": Setting(...)}``;
- ``on_enabled(switch)`` / ``on_disabled(switch)`` (optional): hooks run when an event's
  organizers turn it on or off (see :class:`PluginSwitch`).

Version and author come from the distribution's metadata. ``includeme`` here (the last include
of :func:`openevent.config.configure`) loads every allowed plugin and fills
``registry[PLUGINS_KEY]``; a plugin that cannot be imported, is incompatible or whose
``includeme`` raises is skipped with one log line and listed as failed; the others still load.

:func:`plugin_of` and :func:`is_enabled_for_event` are the contract the change delivery and the
job runner rely on; :func:`settings_for_event` is how a plugin reads its settings for an event.
The routes a plugin's ``includeme`` adds answer 404 for events the plugin is turned off for
(see *Routes* at the end), without a check in its views.
"""

from __future__ import annotations

import enum
import importlib.resources
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from openevent import __version__, event_locks
from openevent.api.errors import NotFound
from openevent.api.fields import Field, FieldContext, Invalid
from openevent.models import EventPlugin

log = logging.getLogger(__name__)

PLUGINS_KEY = "openevent.plugins"
ENTRY_POINT_GROUP = "openevent.plugins"
# Session.info key of the per-session cache of is_enabled_for_event().
_CACHE_KEY = "openevent.event_plugins"
# Settings are stored, and read back by plugins, in UTC: an instant is the same in any zone.
_STORED = FieldContext()


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
    enabled_by_default: bool = True
    event_settings: Mapping[str, Setting] = field(default_factory=lambda: MappingProxyType({}))
    on_enabled: Callable[[PluginSwitch], None] | None = None
    on_disabled: Callable[[PluginSwitch], None] | None = None


def plugin_of(registry, obj) -> str | None:
    """The name of the plugin whose package defines ``obj`` (a function, class or module
    name), or None for openevent's own code."""
    module = obj if isinstance(obj, str) else getattr(obj, "__module__", None) or ""
    for info in registry.get(PLUGINS_KEY, {}).values():
        if module == info.package or module.startswith(info.package + "."):
            return info.name
    return None


# Per-event enablement and settings.


@dataclass(frozen=True)
class Setting:
    """A per-event setting a plugin declares: an API field, its default and its help text.

    The field (:mod:`openevent.api.fields`: ``String``, ``Integer``, ``Boolean``, ``Choice``,
    ``Url``, ...) validates what organizers send and renders what they read, exactly as for the
    core's attributes, and describes the setting in the OpenAPI document. ``null`` is a value
    only of settings whose default is None.
    """

    field: Field
    default: Any = None
    description: str = ""

    def parse(self, raw, ctx: FieldContext = _STORED):
        """The value JSON ``raw`` stands for; :class:`~openevent.api.fields.Invalid` if none."""
        if raw is None:
            if self.default is not None:
                raise Invalid("must not be null")
            return None
        return self.field.parse_value(raw, ctx)

    def render(self, value, ctx: FieldContext = _STORED):
        """``value`` as JSON, as the API shows it (and the database stores it)."""
        return None if value is None else self.field.render(value, ctx)

    def schema(self) -> dict:
        schema = self.field.schema()
        json_type = self.field.json_type
        schema["type"] = [json_type, "null"] if self.default is None else json_type
        if self.default is None and "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        schema["default"] = self.render(self.default)
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True)
class PluginSwitch:
    """What a plugin's ``on_enabled`` and ``on_disabled`` hooks get: the event it was turned on
    or off for and by whom, in the transaction that turns it (their writes commit with it)."""

    plugin: str
    event_id: int
    user_id: int | None  # who flipped the switch; None for code acting as the system
    enabled: bool  # True for on_enabled, False for on_disabled
    dbsession: Session

    @property
    def registry(self):
        return self.dbsession.info["registry"]

    def enqueue(self, job, *args, **kwargs) -> str:
        """Enqueue ``job(*args, **kwargs)``, sent when the switch commits.

        From ``on_enabled`` the job is the event's (``ctx.event_id``), so it is skipped if the
        plugin is turned off again before it runs. From ``on_disabled`` it is not: a job of a
        plugin that is off for its event would never run; pass the event's id as an argument.
        """
        from openevent.jobs.outbox import enqueue  # openevent.jobs imports this module

        event_id = self.event_id if self.enabled else None
        return enqueue(self.dbsession, job, *args, event_id=event_id, **kwargs)


def _plugin_info(dbsession, plugin_name: str) -> PluginInfo | None:
    """What the app that made ``dbsession`` knows of ``plugin_name`` (sessions carry their
    app's registry, see :func:`openevent.db.session.get_session_factory`)."""
    registry = dbsession.info.get("registry")
    return None if registry is None else registry.get(PLUGINS_KEY, {}).get(plugin_name)


class _EventChoices(dict):
    """plugin name -> (enabled, stored settings) of an event's ``event_plugins`` rows, and
    ``acting``: plugin name -> whether it acts for the event, as worked out so far (a delivery
    asks it for each of thousands of changes)."""

    __slots__ = ("acting",)

    def __init__(self, rows):
        super().__init__(rows)
        self.acting: dict[str, bool] = {}


def _choices(dbsession, event_id: int) -> _EventChoices:
    """The event's choices (see :class:`_EventChoices`).

    One query (on the primary key's index) reads all of an event's rows; the answer is cached
    in the session until its transaction ends or a flush writes ``EventPlugin`` rows, so
    delivering many changes of one event, or listing every plugin's settings, costs one
    statement.
    """
    cache = dbsession.info.setdefault(_CACHE_KEY, {})
    choices = cache.get(event_id)
    if choices is None:
        rows = dbsession.execute(
            select(EventPlugin.plugin, EventPlugin.enabled, EventPlugin.settings).where(
                EventPlugin.event_id == event_id
            )
        )
        choices = cache[event_id] = _EventChoices(
            (plugin, (enabled, settings)) for plugin, enabled, settings in rows
        )
    return choices


def is_enabled_for_event(dbsession, plugin_name: str, event_id: int | None) -> bool:
    """Whether ``plugin_name`` acts for ``event_id``.

    The event's organizers' choice if they made one, otherwise the plugin's
    ``enabled_by_default`` (True unless it says otherwise). Changes that belong to no event
    (``event_id`` None) always reach it. Cached per session: see :func:`_choices`.
    """
    if event_id is None:
        return True
    choices = _choices(dbsession, event_id)
    acting = choices.acting.get(plugin_name)
    if acting is None:
        enabled, _ = choices.get(plugin_name, (None, {}))
        acting = choices.acting[plugin_name] = _enabled(dbsession, plugin_name, enabled)
    return acting


def _enabled(dbsession, plugin_name: str, choice: bool | None) -> bool:
    """The organizers' ``choice``, or the plugin's default where they made none."""
    if choice is None:
        info = _plugin_info(dbsession, plugin_name)
        return True if info is None else info.enabled_by_default
    return choice


def settings_for_event(dbsession, plugin_name: str, event_id: int | None) -> dict[str, Any]:
    """``plugin_name``'s settings for ``event_id``: ``{name: value}`` for every setting it
    declares, the organizers' value or else the default; only defaults for ``event_id`` None.

    Values are what the setting's field parses to (an enum member for ``Choice``, a ``Decimal``
    for ``Money``, an aware datetime for ``DateTime``). Shares :func:`is_enabled_for_event`'s
    query and cache. A stored value that the plugin's declaration refuses since it changed (a
    choice removed, a range narrowed) counts as unset.
    """
    info = _plugin_info(dbsession, plugin_name)
    if info is None:
        raise KeyError(f"no plugin named {plugin_name!r} is installed")
    stored = (
        {} if event_id is None else _choices(dbsession, event_id).get(plugin_name, (None, {}))[1]
    )
    values = {}
    for name, setting in info.event_settings.items():
        values[name] = setting.default
        if name in stored:
            try:
                values[name] = setting.parse(stored[name])
            except Invalid:
                log.warning(
                    "plugin %s: stored %s of event %s is invalid now", plugin_name, name, event_id
                )
    return values


def _row_to_change(dbsession, plugin_name: str, event_id: int) -> EventPlugin:
    """The event's row for the plugin, new if need be, read after locking the event.

    Changes of one event's plugins thus run one after the other: two organizers changing
    different settings at once both keep theirs, and of two turning a plugin on at once, only
    the first sees it off and runs ``on_enabled``. What this transaction read before the lock
    may be stale, so it is read again.
    """
    event_locks.lock(dbsession, event_id)
    dbsession.info.pop(_CACHE_KEY, None)
    row = dbsession.get(EventPlugin, (event_id, plugin_name), populate_existing=True)
    if row is None:
        row = EventPlugin(event_id=event_id, plugin=plugin_name, enabled=None, settings={})
        dbsession.add(row)
    return row


def change_settings_for_event(
    dbsession, plugin_name: str, event_id: int, values: Mapping[str, Any]
) -> None:
    """Set some of ``plugin_name``'s settings for ``event_id``; the others keep their value.

    ``values`` are valid values (as :meth:`Setting.parse` returns them) of declared settings.
    A value equal to the default is not stored, so the setting follows the plugin's default if
    a later version changes it.
    """
    declared = _plugin_info(dbsession, plugin_name).event_settings
    row = _row_to_change(dbsession, plugin_name, event_id)
    stored = dict(row.settings)
    for name, value in values.items():
        setting = declared[name]
        rendered = setting.render(value)
        if rendered == setting.render(setting.default):
            stored.pop(name, None)
        else:
            stored[name] = rendered
    row.settings = stored  # a new dict: the JSON column sees assignments, not mutations
    dbsession.flush()


def set_enabled_for_event(
    dbsession, plugin_name: str, event_id: int, enabled: bool, *, user_id: int | None = None
) -> None:
    """Turn ``plugin_name`` on or off for ``event_id``, in ``dbsession``'s transaction.

    The choice is stored even when it matches the default: the organizers' choice outlives a
    change of default. If the plugin's acting for the event changes, its ``on_enabled`` or
    ``on_disabled`` hook runs next, in the same transaction. A failing ``on_enabled`` fails
    the switch (an exception propagates; an :class:`~openevent.api.errors.APIError` is the
    plugin's answer to the client): a plugin must not act without the backfill it needs. A
    failing ``on_disabled`` is logged and its writes undone, and the plugin is off anyway:
    turning a broken plugin off must always work.
    """
    row = _row_to_change(dbsession, plugin_name, event_id)
    was_enabled = _enabled(dbsession, plugin_name, row.enabled)
    row.enabled = enabled
    dbsession.flush()
    info = _plugin_info(dbsession, plugin_name)
    hook = None if info is None else info.on_enabled if enabled else info.on_disabled
    if enabled == was_enabled or hook is None:
        return
    switch = PluginSwitch(plugin_name, event_id, user_id, enabled, dbsession)
    if enabled:
        hook(switch)
        return
    try:
        with dbsession.begin_nested():
            hook(switch)
    except Exception:
        log.exception("on_disabled of plugin %s failed for event %s", plugin_name, event_id)


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
    try:
        per_event = _per_event_metadata(plugin)
    except ValueError as exc:
        return _failed(info, str(exc))
    description = getattr(plugin, "description", None) or info.description
    info = replace(info, description=description, migrations=folder, **per_event)
    return _Candidate(info, includeme)


# Setting names are attribute names of the API: lower-case words joined by hyphens.
_SETTING_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def _per_event_metadata(plugin) -> dict[str, Any]:
    """``enabled_by_default``, ``event_settings`` and the hooks of ``plugin``, checked; a
    ValueError says what is wrong (the plugin is then listed as failed)."""
    enabled_by_default = getattr(plugin, "enabled_by_default", True)
    if not isinstance(enabled_by_default, bool):
        raise ValueError(f"enabled_by_default must be True or False, not {enabled_by_default!r}")
    hooks = {name: getattr(plugin, name, None) for name in ("on_enabled", "on_disabled")}
    for name, hook in hooks.items():
        if hook is not None and not callable(hook):
            raise ValueError(f"{name} must be a function taking a PluginSwitch")
    declared = getattr(plugin, "event_settings", None) or {}
    if not isinstance(declared, Mapping):
        raise ValueError("event_settings must be a dict of setting names to Setting objects")
    for name, setting in declared.items():
        if not isinstance(name, str) or not _SETTING_NAME.fullmatch(name):
            raise ValueError(
                f"event_settings: {name!r} is not a setting name (lower-case words joined by"
                " hyphens, such as 'badge-size')"
            )
        if not isinstance(setting, Setting):
            raise ValueError(
                f"event_settings[{name!r}] must be an openevent.plugins.Setting, not"
                f" {type(setting).__name__}"
            )
        _check_default(name, setting)
    return {
        "enabled_by_default": enabled_by_default,
        "event_settings": MappingProxyType(dict(declared)),
        **hooks,
    }


def _check_default(name: str, setting: Setting) -> None:
    """A default must be a value of its field, as the field parses it: what an organizer
    could set, and what :func:`settings_for_event` returns."""
    try:
        parsed = setting.parse(setting.render(setting.default))
    except Exception as exc:
        raise ValueError(
            f"event_settings[{name!r}]: the default {setting.default!r} is not a value of its"
            f" field ({exc})"
        ) from None
    if parsed != setting.default:
        raise ValueError(
            f"event_settings[{name!r}]: give the default as the field reads it: {parsed!r},"
            f" not {setting.default!r}"
        )


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


@contextmanager
def site_routes(config) -> Iterator:
    """Inside ``with site_routes(config):`` a plugin's routes are served at their own path, not
    under ``/v1``: pages for people (a public site), not the API.

    They are still the plugin's routes: they answer 404 for events it is turned off for. The
    API's JSON:API error views cover ``/v1`` only, so a plugin serving such pages registers
    error views of its own for its paths (``config.add_exception_view(..., path_info=...)``).
    """
    previous = config.route_prefix
    config.route_prefix = None
    try:
        yield config
    finally:
        config.route_prefix = previous


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
