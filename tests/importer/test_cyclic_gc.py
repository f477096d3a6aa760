"""The collector pause around an import and its transaction: shared, and never left on or off."""

import gc
import threading
from pathlib import Path

import pytest
import transaction

from openevent.importer import cyclic_gc, import_archive
from openevent.testing import make_user

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "open-event"


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


class _Session:
    """What the pause reads of a session: its ``info`` (with the app's transaction manager)."""

    def __init__(self, manager=None):
        self.info = {} if manager is None else {"transaction_manager": manager}


def _failing_commit(manager):
    def fail(*args):
        raise RuntimeError("commit failed")

    manager.get().addBeforeCommitHook(fail)
    with pytest.raises(RuntimeError):
        manager.commit()
    manager.abort()  # as pyramid_tm and transaction_scope do after a failed commit


@pytest.mark.parametrize(
    "end",
    [
        lambda manager: manager.commit(),
        lambda manager: manager.abort(),
        _failing_commit,
    ],
    ids=["commit", "abort", "failed commit"],
)
def test_a_pause_for_a_transaction_lasts_until_it_ends(collector_on, end):
    manager = transaction.TransactionManager()
    manager.begin()
    with cyclic_gc.paused_until_transaction_ends(_Session(manager)):
        assert not gc.isenabled()
    assert not gc.isenabled()  # the import's rows live on until the commit
    end(manager)
    assert gc.isenabled()
    manager.begin()
    manager.abort()  # a later transaction does not end the pause again
    with cyclic_gc.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_for_a_session_outside_a_transaction_ends_with_the_block(collector_on):
    with pytest.raises(RuntimeError), cyclic_gc.paused_until_transaction_ends(_Session()):
        assert not gc.isenabled()
        raise RuntimeError("import failed")
    assert gc.isenabled()


def test_an_import_pauses_the_collector_until_its_transaction_commits(collector_on, dbsession, tm):
    owner = make_user(dbsession, password=None)
    import_archive(dbsession, SAMPLES / "PyCon17", owner_id=owner.id)
    assert not gc.isenabled()
    tm.commit()
    assert gc.isenabled()
