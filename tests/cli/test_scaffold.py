"""``openevent plugins new``: the plugin it writes installs, lints clean and passes its tests."""

import configparser
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

import openevent
from openevent.cli import main
from openevent.db.migrations import core_bases
from openevent.scaffold import MAX_NAME_LENGTH
from openevent.testing import TEST_DATABASE_ENV

REPOSITORY = Path(__file__).parents[2]


def _run_generated_tests(project, site, sample_site, database_url):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(sample_site)])}
    env.pop(TEST_DATABASE_ENV, None)
    if database_url:
        env[TEST_DATABASE_ENV] = database_url
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_new_plugin_passes_its_own_tests(audit_plugin, sample_plugins_installed, database):
    database_url = os.environ.get(TEST_DATABASE_ENV) if database == "postgresql" else None
    if database == "postgresql" and not database_url:
        pytest.skip(f"needs PostgreSQL: set {TEST_DATABASE_ENV}")
    project, site = audit_plugin
    # Installed beside it: openevent-versions and the sample plugins, whose jobs and
    # subscribers must stay out of its tests (its pyproject.toml names it in openevent_plugins).
    result = _run_generated_tests(project, site, sample_plugins_installed, database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_the_new_plugin_is_lint_clean(audit_plugin, capsys):
    project, _ = audit_plugin
    # ruff, with the settings of the plugin's own pyproject.toml...
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
    # ...and openevent's migration linter.
    migrations = project / "openevent_audit" / "migrations"
    assert main(["db", "lint", "--path", str(migrations)]) == 0
    assert capsys.readouterr().out.endswith("OK no findings in 1 folder(s)\n")


def test_the_new_plugin_is_a_distribution_with_its_entry_point_and_branch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["plugins", "new", "speaker_photos"]) == 0
    project = tmp_path / "openevent-speaker-photos"  # the default folder

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "openevent-speaker-photos"
    plugins = pyproject["project"]["entry-points"]["openevent.plugins"]
    assert plugins == {"speaker_photos": "openevent_speaker_photos"}
    assert pyproject["tool"]["pytest"]["ini_options"]["openevent_plugins"] == ["speaker_photos"]
    [dependency] = pyproject["project"]["dependencies"]
    assert dependency.startswith("openevent>=")

    package = project / "openevent_speaker_photos"
    source = (package / "__init__.py").read_text()
    requires = source.split('requires_openevent = "')[1].split('"')[0]
    assert dependency == f"openevent{requires}"
    assert openevent.__version__ in SpecifierSet(requires)

    [migration] = (package / "migrations").glob("*.py")
    assert migration.name.endswith("_speaker_photos_entries.py")
    text = migration.read_text()
    assert 'branch_labels: str | Sequence[str] | None = ("speaker_photos",)' in text
    assert "down_revision: str | Sequence[str] | None = None" in text
    assert f'depends_on: str | Sequence[str] | None = "{core_bases()[0]}"' in text
    assert '"speaker_photos_entries"' in text
    assert '"speaker-photos"' in (package / "views.py").read_text()
    assert (project / "tests" / "test_speaker_photos.py").is_file()


def test_each_new_plugin_gets_a_revision_id_of_its_own(tmp_path):
    ids = set()
    for name in ("one", "two"):
        assert main(["plugins", "new", name, "--directory", str(tmp_path / name)]) == 0
        [migration] = (tmp_path / name / f"openevent_{name}" / "migrations").glob("*.py")
        ids.add(migration.name.split("_")[0])
    assert len(ids) == 2


@pytest.mark.parametrize(
    "name",
    ["Audit", "1audit", "audit-log", "audit__log", "_audit", "audit_", "audit log", "", "a" * 31],
)
def test_a_name_that_cannot_name_a_plugin_is_refused(name, tmp_path, capsys):
    target = tmp_path / "plugin"
    assert main(["plugins", "new", name, "--directory", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"openevent: {name!r} cannot name a plugin: use lowercase letters")
    assert f"at most {MAX_NAME_LENGTH} characters" in err
    assert not target.exists()


def test_an_existing_directory_is_refused_and_left_alone(tmp_path, capsys):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    assert main(["plugins", "new", "audit", "--directory", str(target)]) == 1
    assert capsys.readouterr().err == (
        f"openevent: {target} already exists: name a new folder with --directory\n"
    )
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_every_template_is_shipped_as_package_data():
    # An installed (non-editable) openevent must carry the templates: setup.cfg's package
    # data patterns have to match each of them.
    config = configparser.ConfigParser()
    config.read(REPOSITORY / "setup.cfg")
    patterns = config["options.package_data"]["openevent.scaffold"].split(",")
    package = REPOSITORY / "openevent" / "scaffold"
    shipped = {path for pattern in patterns for path in package.glob(pattern.strip())}
    templates = {path for path in (package / "template").rglob("*") if path.is_file()}
    assert templates and templates <= shipped


def test_help_explains_the_command(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["plugins", "new", "--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: openevent plugins new [-h] [--directory DIR] NAME")
    assert "docs/plugins.md" in out
