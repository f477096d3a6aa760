"""``openevent shell``: pshell with a transaction, the session and the models at hand."""

import contextlib

from pyramid.scripts.pshell import main as pshell_main
from transaction.interfaces import NoTransaction

import openevent.models
from openevent.cli.common import add_config_argument


def register(commands) -> None:
    shell = commands.add_parser(
        "shell",
        help="an interactive Python shell with the app loaded",
        description="Open pshell with `dbsession`, `models` and `tm` defined. Nothing is "
        "saved unless you call tm.commit() (then tm.begin() to go on).",
    )
    add_config_argument(shell)
    shell.set_defaults(handler=lambda args: pshell_main(["pshell", args.config_uri]))


def setup(env):
    """pshell set-up (named in the ini's [pshell] section)."""
    request = env["request"]
    request.tm.begin()
    env["tm"] = request.tm
    env["dbsession"] = request.dbsession
    env["models"] = openevent.models
    try:
        yield
    finally:
        # Nothing to abort when the user committed last.
        with contextlib.suppress(NoTransaction):
            request.tm.abort()
