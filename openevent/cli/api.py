"""What a plugin's own ``openevent`` sub-command uses (docs/plugins.md, "Commands").

A plugin adds a command through the entry point group ``openevent.commands``: the entry point's
value is a ``register(commands)`` function that adds an argparse parser to ``commands`` and sets
its ``handler``, exactly as openevent's own commands do. ``openevent`` lists the command beside
its own; a command that fails to load, or whose name openevent already uses, is reported on
stderr and left out, so a broken plugin never breaks ``openevent db upgrade``.

Inside the handler, :func:`app_registry` builds the application (core and enabled plugins) from
CONFIG, :func:`openevent.db.transaction_scope` gives a session in its own transaction, and
:func:`progress` (over items) and :func:`progress_bar` (stepped by hand) draw a progress bar on a
terminal, and nothing when stderr is not one.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from tqdm import tqdm

from openevent.cli.common import add_config_argument, load_config
from openevent.db import transaction_scope

ENTRY_POINT_GROUP = "openevent.commands"

T = TypeVar("T")

__all__ = [
    "ENTRY_POINT_GROUP",
    "add_config_argument",
    "app_registry",
    "progress",
    "progress_bar",
    "transaction_scope",
]


@contextmanager
def app_registry(config_uri: str) -> Iterator[Any]:
    """The registry of the app CONFIG describes, its database connections closed afterwards.

    The registry holds what a request or a job sees: ``registry.settings``,
    ``registry["openevent.storage"]``, the plugins' registrations; pass it to
    :func:`openevent.db.transaction_scope` for a session.
    """
    from openevent.config import configure

    registry = configure(load_config(config_uri)).registry
    try:
        yield registry
    finally:
        registry["dbengine"].dispose()


def progress(items: Iterable[T], *, total: int | None = None, description: str = "") -> Iterable[T]:
    """``items``, drawing a progress bar on stderr while they are consumed (tqdm)."""
    # disable=None: a bar only on a terminal, so logs and pipes get no control characters.
    return tqdm(items, total=total, desc=description or None, unit="", disable=None)


def progress_bar(*, total: int | None = None, description: str = "") -> tqdm:
    """A progress bar for work that is not a loop over items: ``bar.update(n)`` as ``n`` more
    steps are done; use it as a context manager (``with progress_bar(...) as bar:``)."""
    return tqdm(total=total, desc=description or None, unit="", disable=None)
