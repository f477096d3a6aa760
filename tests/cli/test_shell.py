from pyramid.scripting import prepare
from sqlalchemy import select

from openevent.cli.shell import setup
from openevent.models import EventType


def test_shell_gives_a_session_that_saves_nothing_unless_committed(app_config, db_connection):
    env = prepare(registry=app_config.registry)
    context = setup(env)
    next(context)
    env["dbsession"].add(env["models"].EventType(name="Hackathon"))
    env["dbsession"].flush()
    assert env["tm"].isDoomed() is False
    next(context, None)  # leaving the shell aborts

    env2 = prepare(registry=app_config.registry)
    context2 = setup(env2)
    next(context2)
    assert env2["dbsession"].scalars(select(EventType)).all() == []
    next(context2, None)
    env["closer"]()
    env2["closer"]()
