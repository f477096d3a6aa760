"""The collector pause around an import's row building: shared, and never left on or off."""

import gc
import threading

import pytest

from openevent.importer import cyclic_gc


@pytest.fixture
def collector_on():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after(collector_on):
    with cyclic_gc.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_still_ends_the_pause(collector_on):
    with pytest.raises(RuntimeError), cyclic_gc.paused():
        raise RuntimeError("import failed")
    assert gc.isenabled()


def test_overlapping_imports_end_the_pause_with_the_last(collector_on):
    first_in, second_done, first_may_leave = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with cyclic_gc.paused():
            first_in.set()
            first_may_leave.wait(5)

    def second():
        first_in.wait(5)
        with cyclic_gc.paused():
            pass
        seen.append(gc.isenabled())  # the first import still runs
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    second_done.wait(5)
    first_may_leave.set()
    for thread in threads:
        thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_process_stays_off(collector_on):
    gc.disable()
    with cyclic_gc.paused():
        pass
    assert not gc.isenabled()
