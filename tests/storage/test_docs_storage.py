"""docs/storage.md, "Storage backends from plugins": the entry point group it shows is the one
openevent reads, and its factory builds a backend from settings as build_storage calls it."""

import re
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import openevent
import openevent.storage
from openevent.settings import load_settings
from openevent.storage import BACKENDS_GROUP, build_storage

DOCS = (Path(__file__).parents[2] / "docs" / "storage.md").read_text()
SECTION = DOCS.split("## Storage backends from plugins", 1)[1].split("\n## ", 1)[0]
FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


class S3Storage:
    """What the example's factory builds (a real backend would talk to S3)."""

    def __init__(self, bucket, secret):
        self.bucket, self.secret = bucket, secret


def test_the_plugin_backend_example_is_wired_as_shown(monkeypatch):
    blocks = dict((language, body) for language, body in FENCED.findall(SECTION))
    [(group, entries)] = tomllib.loads(blocks["toml"])["project"]["entry-points"].items()
    assert group == BACKENDS_GROUP
    [(name, target)] = entries.items()

    module = type(openevent)("openevent_s3")
    module.S3Storage = S3Storage
    exec(blocks["python"], module.__dict__)
    monkeypatch.setitem(__import__("sys").modules, "openevent_s3", module)
    monkeypatch.setattr(
        openevent.storage, "entry_points", lambda group: [EntryPoint(name, target, group)]
    )
    settings = load_settings(
        {
            "sqlalchemy.url": "sqlite://",
            "openevent.secret": "a test secret of some length",
            "openevent.storage": name,
            "openevent_s3.bucket": "conference-files",
        }
    )
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.secret) == ("conference-files", settings["openevent.secret"])


def test_the_gcs_fixtures_example_runs(gcs_storage):
    section = DOCS.split("## The gcs backend", 1)[1].split("\n## ", 1)[0]
    [example] = [body for language, body in FENCED.findall(section) if language == "python"]
    namespace: dict = {}
    exec(example, namespace)
    [test] = [value for name, value in namespace.items() if name.startswith("test_")]
    test(gcs_storage)
    assert [stored.key for stored in gcs_storage.list()] == ["exports/1/export.zip"]


def test_the_check_command_output_shown_is_the_commands(ini_file, capsys):
    from openevent.cli import main

    section = DOCS.split("## Checking a deployment", 1)[1].split("\n## ", 1)[0]
    shown = FENCED.findall(section)[0][1].splitlines()[2:]
    assert main(["storage", "check", ini_file()]) == 0
    printed = capsys.readouterr().out.splitlines()[1:]
    assert [line.split(" (")[0] for line in printed] == [line.split(" (")[0] for line in shown]
