"""Python's cyclic garbage collector held off while an import builds its rows, until its
transaction ends.

An import holds every record of the export at once: hundreds of thousands of dicts, lists and
tuples that all live until it ends, and its rows and their change records live until its
transaction commits. The collector runs a pass over the young objects every few hundred new
ones, and a full pass each time the long-lived ones grow by a quarter, so it walks the growing
import a dozen times over, finding nothing to free: about a third of the import's time on
5,000 sessions, and still an eighth of the FOSSASIA sample's when the pause ended with the
import rather than with its transaction (the first pass after it walked everything still
alive). Reference counting still frees everything the import drops as it goes; only reference
cycles wait, and the collector finds them at its next pass, once the transaction has ended and
the import's objects are gone.

The collector is one per process: imports running at once in a worker's threads share the
pause, which ends when the last of them does, and a collector that was already off stays off.
"""

import gc
import threading
import weakref
from contextlib import contextmanager

from transaction.interfaces import NoTransaction


class _Pause:
    def __init__(self):
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    def enter(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1

    def leave(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._was_enabled:
                gc.enable()


_PAUSE = _Pause()


@contextmanager
def paused():
    """No cyclic garbage collection in the process while the block runs."""
    _PAUSE.enter()
    try:
        yield
    finally:
        _PAUSE.leave()


class _TransactionHold:
    """Kept in a transaction's data, which the transaction lets go when it has ended (after
    its commit's after-commit hooks, or its abort) or when it is itself dropped."""

    __slots__ = ("__weakref__",)


@contextmanager
def paused_until_transaction_ends(dbsession):
    """No cyclic garbage collection while the block runs and then until the zope transaction
    of ``dbsession`` has ended and let its data go (at the end of the block for a session
    outside one).

    Not merely until its after-commit hooks run: the transaction keeps the import's change
    records until all of them have, and the first pass of a collector turned on earlier walks
    them all.
    """
    transaction = _transaction_of(dbsession)
    if transaction is None:
        with paused():
            yield
        return
    _PAUSE.enter()
    hold = _TransactionHold()
    weakref.finalize(hold, _PAUSE.leave)
    transaction.set_data(hold, hold)
    del hold
    yield


def _transaction_of(dbsession):
    manager = dbsession.info.get("transaction_manager")
    if manager is None:
        return None
    try:
        return manager.get()
    except NoTransaction:
        return None
