"""A request process that dies at the worst moment, for tests/jobs/test_change_job_crash.py.

The test's ini lists this module in ``pyramid.includes`` (with tests/jobs on PYTHONPATH) and
names :func:`crashing_manager` as ``tm.manager_hook``. :func:`main` sends one request through
the app; the request's transaction commits in the database, then the process SIGKILLs itself
before any after-commit hook runs: before the outbox's send, before the after-commit change
subscribers. Run it as ``python -c "import crashing_commits, sys;
sys.exit(crashing_commits.main(*sys.argv[1:]))" CONFIG.ini SESSION_ID TOKEN TITLE``.
"""

import os
import signal
from pathlib import Path

import transaction

from openevent.changes import SessionUpdated, in_transaction
from openevent.jobs import job
from openevent.models import Session

# The after-commit subscriber touches this file in the process's working directory.
AFTER_COMMIT_MARK = "after-commit-subscriber-ran"


@job(queue_name="crash-test")
def index_title(context, session_id, title):
    """The change's job: copies the title it was given into the session's subtitle."""
    session = context.dbsession.get(Session, session_id)
    if session is not None:
        session.subtitle = f"indexed: {title}"


@in_transaction
def enqueue_index(change):
    change.enqueue(index_title, change.id, change.changes["title"][1])


def note_after_commit(change):
    Path(AFTER_COMMIT_MARK).touch()


class _DieAfterCommit:
    """A transaction synchronizer: its ``afterCompletion`` runs once the resources have
    committed (the database's COMMIT is done) and before the after-commit hooks."""

    def beforeCompletion(self, txn):
        pass

    def newTransaction(self, txn):
        pass

    def afterCompletion(self, txn):
        if txn.status == "Committed":
            os.kill(os.getpid(), signal.SIGKILL)


# Managers hold their synchronizers weakly.
_DIE_AFTER_COMMIT = _DieAfterCommit()


def crashing_manager(request):
    """``tm.manager_hook``: pyramid_tm's explicit manager, with the deadly synchronizer."""
    manager = transaction.TransactionManager(explicit=True)
    manager.registerSynch(_DIE_AFTER_COMMIT)
    return manager


def includeme(config):
    config.add_subscriber(enqueue_index, SessionUpdated, attributes=("title",))
    config.add_subscriber(note_after_commit, SessionUpdated, attributes=("title",))


def main(config_uri, session_id, token, title) -> int:
    import webtest
    from pyramid.paster import get_app

    app = webtest.TestApp(get_app(config_uri), extra_environ={"HTTP_HOST": "example.com"})
    body = {"data": {"type": "session", "id": session_id, "attributes": {"title": title}}}
    app.patch_json(
        f"/v1/sessions/{session_id}",
        body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"},
    )
    return 0  # reached only if the process survived its commit
