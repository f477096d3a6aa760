"""Python's cyclic garbage collector held off while an import builds its rows.

An import holds every record of the export at once: hundreds of thousands of dicts, lists and
tuples that all live until it ends. The collector runs a full pass over every object each
time the long-lived ones grow by a quarter, so it walks the growing import a dozen times over,
finding nothing to free: about a third of the import's time on 5,000 sessions. Reference
counting still frees everything the import drops as it goes; only reference cycles wait, and
the collector finds them at its next pass, once the import ends.

The collector is one per process: imports running at once in a worker's threads share the
pause, which ends when the last of them does, and a collector that was already off stays off.
"""

import gc
import threading
from contextlib import contextmanager


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
