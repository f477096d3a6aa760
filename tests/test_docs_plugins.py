"""docs/plugins.md: the files it shows are what `openevent plugins new audit` writes (whose
tests tests/cli/test_scaffold.py runs), and the commands it shows are openevent's."""

import re
import shlex
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from openevent.cli import build_parser
from openevent.db.migrations import core_bases
from openevent.scaffold import Plugin, render

DOCS = Path(__file__).parents[1] / "docs" / "plugins.md"
FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    return FENCED.findall(DOCS.read_text())


def test_the_tutorials_files_are_what_the_scaffold_writes():
    # A block showing a whole file opens with a comment naming it and nothing else.
    shown = {}
    for _, body in _blocks():
        first, _, text = body.partition("\n")
        if re.fullmatch(r"# [\w./-]+", first):
            shown[PurePosixPath(first[2:])] = text
    [migration] = [path for path in shown if path.parent.name == "migrations"]
    created = re.search(r"^Create Date: (.+)$", shown[migration], re.MULTILINE).group(1)
    plugin = Plugin(
        "audit",
        revision=migration.name.split("_")[0],
        depends_on=core_bases(),
        created=datetime.strptime(created, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC),
    )
    written = {path: text for path, text in render(plugin).items() if path.name != "README.md"}
    assert shown == written


def test_the_tutorials_commands_are_openevents():
    in_blocks = [
        line
        for language, body in _blocks()
        if not language
        for line in body.splitlines()
        if line.startswith("openevent ")
    ]
    # In the prose: whole commands, with their CONFIG (`openevent db check` alone names one).
    inline = re.findall(
        r"`(openevent [^`\[]+? (?:CONFIG|development\.ini)\b[^`]*)`", DOCS.read_text()
    )
    assert "openevent plugins new audit" in in_blocks
    parser = build_parser()
    for command in {*in_blocks, *inline}:
        parser.parse_args(shlex.split(command)[1:])  # exits on an unknown command or option
