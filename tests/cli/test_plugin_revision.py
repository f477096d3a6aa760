"""``openevent db revision --plugin NAME``: a plugin's migration goes into its own folder, on
its branch, and holds its own tables' changes only; the core's holds none of any plugin's."""

import json
import os
import runpy
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, inspect

import openevent.db.migrations as migrations
from openevent.cli import main
from openevent.db import Base
from openevent.db.autogen import table_owners
from openevent.db.migrations import core_bases, script_directory, script_location
from openevent.db.session import database_url
from openevent.plugins import discover
from openevent.settings import load_settings

CORE_VERSIONS = Path(script_location()) / "versions"
# The column docs/plugins.md has the tutorial add to the audit plugin's model.
REASON_COLUMN = "    reason: Mapped[str | None] = mapped_column(String(255))  # why it changed\n"


@pytest.fixture
def config_file(ini_file):
    return ini_file()


@pytest.fixture
def tables(empty_database_url):
    """``tables()``: the tables in the test's database."""

    def _tables() -> set[str]:
        engine = create_engine(database_url(empty_database_url))
        try:
            with engine.connect() as connection:
                return set(inspect(connection).get_table_names())
        finally:
            engine.dispose()

    return _tables


def _new_files(folder: Path, before: set[Path]) -> None:
    for path in set(folder.iterdir()) - before:
        shutil.rmtree(path) if path.is_dir() else path.unlink()


@pytest.fixture
def sample_migrations(app_settings):
    """The sample plugin's migrations folder (in this run's own site-packages); what a test
    adds to it is removed afterwards."""
    plugins = {p.name: p for p in discover(load_settings(app_settings))}
    folder = Path(plugins["sample"].migrations)
    before = set(folder.iterdir())
    yield folder
    _new_files(folder, before)


@pytest.fixture
def core_versions_untouched():
    """Fails the test if a file appears in openevent's own versions folder (and removes it)."""
    before = set(CORE_VERSIONS.iterdir())
    yield
    added = set(CORE_VERSIONS.iterdir()) - before
    _new_files(CORE_VERSIONS, before)
    assert not added, f"written into openevent's own migrations: {added}"


def _revision_file(path: Path) -> dict:
    return runpy.run_path(str(path))


def test_each_table_belongs_to_the_core_or_one_plugin(app_settings):
    owner = table_owners(Base.registry, discover(load_settings(app_settings)))
    assert owner("events") is None  # a model of openevent's
    assert owner("sample_notes") == "sample"  # a model of the sample plugin's package
    assert owner("versions_counters") == "versions"
    # No model maps these: the installed plugin whose name prefixes it, the longest one.
    assert owner("versions_retired") == "versions"
    assert owner("sample_broken_import_cache") == "sample_broken_import"
    assert owner("scratch_items") is None


def test_a_plugin_revision_goes_on_its_branch_with_its_own_changes_only(
    config_file, sample_migrations, app_settings, tables, capsys, core_versions_untouched
):
    assert main(["db", "upgrade", config_file]) == 0
    head = script_directory(app_settings).get_revision("sample@head").revision
    # Two changes pending: a table of the sample plugin's (its name says so) and the core's.
    tags = sa.Table(
        "sample_tags",
        Base.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(40)),
    )
    scratch = sa.Table(
        "scratch_items", Base.metadata, sa.Column("id", sa.Integer, primary_key=True)
    )
    try:
        argv = ["db", "revision", config_file, "--plugin", "sample", "--autogenerate", "-m", "tags"]
        assert main(argv) == 0
        [written] = sample_migrations.glob("*_tags.py")
        assert capsys.readouterr().out.endswith(f"wrote {written}\n")
        revision = _revision_file(written)
        assert revision["down_revision"] == head
        assert revision["branch_labels"] is None  # the label stays on the branch's first
        text = written.read_text()
        assert text.count("op.create_table(") == 1 and "'sample_tags'" in text
        assert "scratch_items" not in text

        assert main(["db", "upgrade", config_file]) == 0
        assert "sample_tags" in tables() and "scratch_items" not in tables()
    finally:
        Base.metadata.remove(tags)
        Base.metadata.remove(scratch)


def test_a_core_revision_leaves_every_plugins_tables_alone(
    config_file, empty_database_url, capsys, core_versions_untouched
):
    assert main(["db", "upgrade", config_file]) == 0
    # A table the versions plugin's models no longer describe, and a new one of the sample
    # plugin's: neither is the core's to drop or create.
    engine = create_engine(database_url(empty_database_url))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE versions_retired (id INTEGER PRIMARY KEY)")
    engine.dispose()
    tags = sa.Table("sample_tags", Base.metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        capsys.readouterr()
        assert main(["db", "revision", config_file, "--autogenerate", "-m", "core"]) == 0
        assert "no changes between the models and the migrations" in capsys.readouterr().out
    finally:
        Base.metadata.remove(tags)


def test_a_plugins_first_revision_starts_its_branch(
    config_file, sample_migrations, tmp_path, tables, capsys, core_versions_untouched
):
    # The sample plugin before it had any migration: its folder is empty, its tables missing.
    hidden = [path.rename(tmp_path / path.name) for path in sample_migrations.glob("*.py")]
    tables_of_the_plugin = {"sample_notes", "sample_title_changes"}
    try:
        assert main(["db", "upgrade", config_file]) == 0
        assert not tables_of_the_plugin & set(tables())
        argv = [
            "db",
            "revision",
            config_file,
            "--plugin",
            "sample",
            "--autogenerate",
            "-m",
            "notes",
        ]
        assert main(argv) == 0
        [written] = sample_migrations.glob("*.py")
        revision = _revision_file(written)
        assert revision["down_revision"] is None
        assert revision["branch_labels"] == ("sample",)
        assert (revision["depends_on"],) == core_bases()  # the core revision making events
        text = written.read_text()
        assert text.count("op.create_table(") == 2
        assert all(f"'{table}'" in text for table in tables_of_the_plugin)
        assert "versions_counters" not in text

        assert main(["db", "upgrade", config_file]) == 0
        assert tables_of_the_plugin <= set(tables())
        capsys.readouterr()
        assert main(["db", "check", config_file]) == 0
        assert "sample " in capsys.readouterr().out  # one head on the new branch
    finally:
        for path in sample_migrations.glob("*.py"):
            path.unlink()
        for path in hidden:
            path.rename(sample_migrations / path.name)


@pytest.mark.parametrize(
    ("name", "extra", "message"),
    [
        ("nope", "", "no plugin named 'nope' is installed"),
        ("sample", "openevent.plugins.disabled = sample\n", "plugin sample is disabled: listed"),
        ("sample_incompatible", "", "plugin sample_incompatible is failed: requires openevent"),
    ],
)
def test_a_plugin_that_cannot_take_a_revision_is_one_line(
    name, extra, message, ini_file, capsys, core_versions_untouched
):
    config = ini_file(extra)
    assert main(["db", "upgrade", config]) == 0
    capsys.readouterr()
    assert main(["db", "revision", config, "--plugin", name, "-m", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"openevent: {message}") and err.count("\n") == 1


def test_a_plugin_without_a_migrations_folder_is_told_how_to_add_one(
    config_file, monkeypatch, capsys, core_versions_untouched
):
    real = migrations.discover
    monkeypatch.setattr(
        migrations,
        "discover",
        lambda s: [replace(p, migrations=None) if p.name == "sample" else p for p in real(s)],
    )
    assert main(["db", "revision", config_file, "--plugin", "sample", "-m", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("openevent: plugin sample has no migrations folder")
    assert 'migrations = "migrations"' in err


def test_plugin_and_head_exclude_each_other(config_file, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["db", "revision", config_file, "--plugin", "sample", "--head", "x", "-m", "x"])
    assert excinfo.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# As a plugin's author works: a new column in models.py, then the commands, each in a process
# that has the plugin installed. One process runs them all (each would pay start-up again).
_RUN_COMMANDS = """
import json, sys
from openevent.cli import main
for argv in json.loads(sys.argv[1]):
    code = main(argv)
    if code:
        sys.exit(f"{argv} exited with {code}")
"""


def test_a_new_column_of_a_scaffolded_plugin_becomes_its_next_revision(
    audit_plugin, tmp_path, config_file, core_versions_untouched
):
    _, installed = audit_plugin
    site = shutil.copytree(installed, tmp_path / "site-packages")  # the shared one stays as is
    package = site / "openevent_audit"
    [first] = (package / "migrations").glob("*.py")
    models = package / "models.py"
    source = models.read_text()
    anchor = "    new_title: Mapped[str | None] = mapped_column(String(255))\n"
    models.write_text(source.replace(anchor, anchor + REASON_COLUMN))

    commands = [
        ["db", "upgrade", config_file],
        # The core's autogenerate sees nothing to do: the new column is the plugin's.
        ["db", "revision", config_file, "--autogenerate", "-m", "core"],
        ["db", "revision", config_file, "--plugin", "audit", "--autogenerate", "-m", "reasons"],
        ["db", "upgrade", config_file],
        ["db", "check", config_file],
    ]
    result = subprocess.run(
        [sys.executable, "-c", _RUN_COMMANDS, json.dumps(commands)],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    [written] = (package / "migrations").glob("*_reasons.py")
    lines = result.stdout.splitlines()
    assert f"wrote {written}" in lines
    assert "no changes between the models and the migrations: no revision written" in lines
    assert lines[-1].startswith("OK one head per branch (audit ")
    revision = _revision_file(written)
    assert revision["down_revision"] == _revision_file(first)["revision"]
    assert revision["branch_labels"] is None
    text = written.read_text()
    assert "batch_op.add_column(sa.Column('reason', sa.String(length=255)" in text
    assert text.count("batch_alter_table(") == 2  # the upgrade's and the downgrade's
    assert "batch_alter_table('audit_entries'" in text


def test_the_tutorial_adds_the_column_this_test_adds():
    docs = (Path(__file__).parents[2] / "docs" / "plugins.md").read_text()
    assert REASON_COLUMN in docs
    assert "openevent db revision development.ini --plugin audit --autogenerate" in docs
