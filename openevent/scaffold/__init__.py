"""``openevent plugins new NAME``: a working plugin distribution to start from.

Like pretix's cookiecutter, with the standard library only: the files under ``template/`` are
:class:`string.Template` texts (``${name}``, ``${package}``, ...) written out with the plugin's
names in. The folder ``package`` becomes the plugin's package; the first migration and the test
module take names of their own. What the plugin does (an audit log of session title changes:
a table, a migration branch, a change subscriber, a job, a team-only route and tests) is the
tutorial of docs/plugins.md, which shows these files as they are written for ``audit``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from string import Template

from alembic.util import rev_id

from openevent import __version__
from openevent.db.migrations import core_bases

# Lowercase words joined by single underscores: a Python identifier, a table-name prefix and a
# branch label alike. Thirty characters keep the constraint names the naming convention builds
# (fk_<name>_entries_event_id_events) within PostgreSQL's 63.
NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*\Z")
MAX_NAME_LENGTH = 30
_SUFFIX = ".tmpl"


class ScaffoldError(ValueError):
    """The plugin cannot be created; the message says why."""


def check_name(name: str) -> None:
    """Raise :class:`ScaffoldError` unless ``name`` can name a plugin."""
    if not NAME.match(name) or len(name) > MAX_NAME_LENGTH:
        raise ScaffoldError(
            f"{name!r} cannot name a plugin: use lowercase letters, digits and single "
            f"underscores, starting with a letter, at most {MAX_NAME_LENGTH} characters "
            "(e.g. badges or speaker_photos)"
        )


def requires_openevent(version: str = __version__) -> str:
    """The openevent versions a new plugin declares it works with: this release series."""
    major, minor = (int(part) for part in version.split(".")[:2])
    upper = f"0.{minor + 1}" if major == 0 else f"{major + 1}"
    return f">={major}.{minor},<{upper}"


@dataclass(frozen=True)
class Plugin:
    """The names a plugin goes by, all derived from its name."""

    name: str  # entry point, branch label, settings and table prefix: audit
    revision: str  # its first migration's id
    depends_on: tuple[str, ...]  # the core's first revision
    created: datetime

    @property
    def values(self) -> dict[str, str]:
        hyphenated = self.name.replace("_", "-")
        depends_on = ", ".join(f'"{head}"' for head in self.depends_on)
        return {
            "name": self.name,
            "title": self.name.replace("_", " ").capitalize(),
            "package": f"openevent_{self.name}",
            "distribution": f"openevent-{hyphenated}",
            "route": hyphenated,
            "type": f"{hyphenated}-entry",
            "table": f"{self.name}_entries",
            "requires": requires_openevent(),
            "revision": self.revision,
            "depends_on": depends_on if len(self.depends_on) == 1 else f"({depends_on})",
            "created": self.created.strftime("%Y-%m-%d %H:%M:%S"),
        }

    def path(self, template: PurePosixPath) -> PurePosixPath:
        """Where the file of ``template`` (relative, without its suffix) goes."""
        renames = {
            "package": f"openevent_{self.name}",
            "first_revision.py": f"{self.revision}_{self.name}_entries.py",
            "test_plugin.py": f"test_{self.name}.py",
        }
        return PurePosixPath(*(renames.get(part, part) for part in template.parts))


def _templates(folder: Traversable, relative: PurePosixPath):
    """(path relative to the template folder, without the suffix; file) of each template."""
    for item in sorted(folder.iterdir(), key=lambda item: item.name):
        if item.is_dir():
            yield from _templates(item, relative / item.name)
        elif item.name.endswith(_SUFFIX):
            yield relative / item.name.removesuffix(_SUFFIX), item


def render(plugin: Plugin) -> dict[PurePosixPath, str]:
    """Every file of the plugin's distribution, by path, with its text."""
    values = plugin.values
    return {
        plugin.path(relative): Template(item.read_text(encoding="utf-8")).substitute(values)
        for relative, item in _templates(files(__name__) / "template", PurePosixPath())
    }


def create(name: str, directory: Path | None = None) -> Path:
    """Write plugin ``name``'s distribution into ``directory`` (default: ./openevent-NAME),
    which must not exist yet; return the folder."""
    check_name(name)
    plugin = Plugin(name, rev_id(), core_bases(), datetime.now(UTC))
    target = Path(directory or plugin.values["distribution"])
    try:
        target.mkdir(parents=True)
    except FileExistsError:
        raise ScaffoldError(
            f"{target} already exists: name a new folder with --directory"
        ) from None
    for relative, text in render(plugin).items():
        path = target.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
