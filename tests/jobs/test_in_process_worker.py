"""`pserve development.ini`: jobs run in the web process, with no other process."""

import threading

from alembic import command

from openevent.config import configure
from openevent.db import transaction_scope
from openevent.db.migrations import alembic_config
from openevent.jobs import IN_PROCESS_WORKER_KEY, enqueue, job
from openevent.models import Event
from openevent.testing import make_event

finished = threading.Event()
names = []


@job
def remember_name(context, event_id):
    names.append(context.dbsession.get(Event, event_id).name)
    finished.set()


def test_the_web_process_runs_jobs_itself(app_settings, empty_database_url):
    settings = {
        **app_settings,
        "sqlalchemy.url": empty_database_url,
        "openevent.jobs.in_process_worker": True,
    }
    config = configure(settings)
    with config.registry["dbengine"].begin() as connection:
        command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
    config.make_wsgi_app()  # as pserve does: ApplicationCreated starts the worker
    worker = config.registry[IN_PROCESS_WORKER_KEY]
    try:
        assert worker.started.wait(10)
        with transaction_scope(config.registry) as dbsession:
            event_id = make_event(dbsession, name="Meetup").id
            enqueue(dbsession, remember_name, event_id)
        assert finished.wait(10), "the in-process worker did not run the job"
        assert names == ["Meetup"]
    finally:
        worker.stop()
        config.registry["dbengine"].dispose()
    assert not worker.thread.is_alive()


def test_no_worker_unless_asked(app_config):
    assert IN_PROCESS_WORKER_KEY not in app_config.registry
