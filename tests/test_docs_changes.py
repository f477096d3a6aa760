"""The code of docs/changes.md runs, and does what the text around it says."""

import re
import types
from datetime import datetime
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import select
from zope.interface import implementedBy

from openevent.jobs import JobContext
from openevent.models import OutboxMessage
from openevent.testing import jsonapi_document, make_session

DOC = Path(__file__).parents[1] / "docs" / "changes.md"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", path.read_text(), re.DOTALL | re.MULTILINE)


@pytest.fixture(scope="module")
def examples() -> list[types.ModuleType]:
    """Each Python block of the page, run as a module of its own."""
    modules = []
    for number, source in enumerate(python_blocks(DOC), start=1):
        module = types.ModuleType(f"docs_changes_{number}")
        exec(compile(source, f"{DOC} (block {number})", "exec"), module.__dict__)
        modules.append(module)
    return modules


@pytest.fixture
def include(app_config, registry):
    """``include(module)`` runs the module's ``includeme``; its subscribers go after the test."""
    added = []

    class Config:
        def add_subscriber(self, subscriber, iface, **predicates):
            spec = [implementedBy(iface)]
            before = set(registry.adapters.subscriptions(spec, None))
            app_config.add_subscriber(subscriber, iface, **predicates)
            app_config.commit()
            for handler in registry.adapters.subscriptions(spec, None):
                if handler not in before:
                    added.append((handler, iface))

    yield lambda module: module.includeme(Config())
    for handler, iface in added:
        registry.unregisterHandler(handler, (iface,))


def _example(examples, name) -> types.ModuleType:
    [module] = [module for module in examples if hasattr(module, name)]
    return module


def test_every_python_block_runs(examples, include):
    assert len(examples) == 2
    for module in examples:
        include(module)


def test_the_index_job_orders_its_work_by_commit_time(
    testapp, dbsession, registry, event, owner, headers, include, examples, run_jobs
):
    example = _example(examples, "index_title")
    index = example.SEARCH_INDEX
    index.clear()
    include(example)
    session = make_session(dbsession, event, title="Keynote")
    for title in ("Opening keynote", "Closing keynote"):
        body = jsonapi_document("session", {"title": title}, id=session.id)
        testapp.patch_json(f"/v1/sessions/{session.id}", body, headers=headers, status=200)

    # Each commit enqueued one job, in its transaction, with plain values.
    rows = dbsession.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.actor_name == example.index_title.name)
        .order_by(OutboxMessage.id)
    ).all()
    messages = [dramatiq.Message.decode(row.message) for row in rows]
    assert [tuple(m.args[:2]) for m in messages] == [
        (session.id, "Opening keynote"),
        (session.id, "Closing keynote"),
    ]
    first, second = (datetime.fromisoformat(m.args[2]) for m in messages)
    assert first < second and first.utcoffset().total_seconds() == 0
    assert {m.args[3] for m in messages} == {owner.id}

    # The later change's job runs first, then the earlier one runs late: the index keeps the
    # later title. Run again by the worker, both leave it as it is.
    for message in reversed(messages):
        context = JobContext(dbsession, registry, message.message_id, event.id)
        example.index_title(context, *message.args)
    expected = {"title": "Closing keynote", "committed_at": second, "by": owner.id}
    assert index == {session.id: expected}
    run_jobs()
    assert index == {session.id: expected}
