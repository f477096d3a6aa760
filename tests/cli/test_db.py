import pytest
from sqlalchemy import create_engine, inspect

from openevent.cli import main
from openevent.db.migrations import core_heads, expected_heads
from openevent.db.session import database_url


@pytest.fixture
def config_file(ini_file):
    """An ini file like an operator's, pointing at a database of the test's own."""
    return ini_file()


def test_upgrade_current_check_downgrade(config_file, empty_database_url, capsys, app_settings):
    # The core's head and, with the sample plugin of tests/plugin_dist installed, its branch's.
    heads = expected_heads(app_settings)
    core = core_heads(app_settings)[0]

    assert main(["db", "current", config_file]) == 0
    assert "never migrated" in capsys.readouterr().out

    assert main(["db", "check", config_file]) == 1
    assert f"run `openevent db upgrade {config_file}`" in capsys.readouterr().err

    assert main(["db", "upgrade", config_file]) == 0
    assert main(["db", "current", config_file]) == 0
    assert capsys.readouterr().out.split() == list(heads)

    assert main(["db", "check", config_file]) == 0
    checked = capsys.readouterr().out
    assert checked.startswith("OK one head per branch (") and f"openevent {core}" in checked

    assert main(["db", "heads", config_file]) == 0
    assert capsys.readouterr().out.split() == list(heads)

    assert main(["db", "downgrade", config_file, "base"]) == 0
    engine = create_engine(database_url(empty_database_url))
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == ["alembic_version"]
    engine.dispose()


def test_bad_setting_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENEVENT_SECRET", raising=False)
    monkeypatch.delenv("OPENEVENT_DATABASE_URL", raising=False)
    path = tmp_path / "bad.ini"
    path.write_text("[app:main]\nuse = egg:openevent\nsqlalchemy.url = sqlite://\n")
    assert main(["db", "current", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "openevent: configuration error: openevent.secret: required, secret used to sign "
        "tokens; at least 16 characters (or set OPENEVENT_SECRET)\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["db", "--help"],
        ["db", "upgrade", "--help"],
        ["db", "check", "--help"],
        ["shell", "--help"],
    ],
)
def test_help_explains_each_command(argv, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: openevent")
    assert "CONFIG" in out or "COMMAND" in out or "ACTION" in out


SCRATCH_REVISION = '''"""A scratch revision on top of the core's head, for these tests only."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scratch_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scratch_items")),
    )


def downgrade():
    op.drop_table("scratch_items")
'''


@pytest.fixture
def extra_versions(tmp_path, monkeypatch, app_settings):
    """A versions folder of the test's own, added to the migrations like a plugin's."""
    import openevent.db.migrations as migrations

    folder = tmp_path / "versions"
    folder.mkdir()
    plugin_locations = migrations.migration_locations
    monkeypatch.setattr(
        migrations, "migration_locations", lambda s: [*plugin_locations(s), str(folder)]
    )
    return folder


def test_two_heads_fail_check_with_the_merge_command_that_joins_them(
    config_file, extra_versions, app_settings, capsys
):
    core = core_heads(app_settings)[0]
    # A revision written in parallel with the core's last one: same parent.
    from openevent.db.migrations import script_directory

    parent = script_directory(app_settings).get_revision(core).down_revision
    (extra_versions / "0000aaaa0000_parallel.py").write_text(
        SCRATCH_REVISION.format(revision="0000aaaa0000", down=parent)
    )
    # `upgrade heads` runs both branches; only check notices they were never joined.
    assert main(["db", "upgrade", config_file]) == 0
    capsys.readouterr()

    assert main(["db", "check", config_file]) == 1
    err = capsys.readouterr().err
    assert f"2 heads on branch openevent: 0000aaaa0000, {core}" in err
    command = f'openevent db merge {config_file} 0000aaaa0000 {core} -m "merge openevent heads"'
    assert command in err

    assert (
        main(["db", "merge", config_file, "0000aaaa0000", core, "-m", "merge openevent heads"]) == 0
    )
    [merge_file] = [p for p in extra_versions.glob("*.py") if "merge" in p.name]
    assert "down_revision" in merge_file.read_text() and core in merge_file.read_text()
    capsys.readouterr()
    assert main(["db", "upgrade", config_file]) == 0
    capsys.readouterr()
    # One head again; what is left is the scratch table, which no model describes.
    assert main(["db", "check", config_file]) == 1
    err = capsys.readouterr().err
    assert "heads on branch" not in err
    assert "is at" not in err
    assert "remove_table" in err and "scratch_items" in err


def test_autogenerate_writes_a_rename_in_batch_mode_and_keeps_the_data(
    config_file, extra_versions, app_settings, empty_database_url, capsys
):
    import sqlalchemy as sa

    from openevent.db import Base

    core = core_heads(app_settings)[0]
    (extra_versions / "0000aaaa0000_scratch.py").write_text(
        SCRATCH_REVISION.format(revision="0000aaaa0000", down=core)
    )
    assert main(["db", "upgrade", config_file]) == 0
    engine = create_engine(database_url(empty_database_url))
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO scratch_items (id, title) VALUES (1, 'kept')")

    # The model now calls the column `name`.
    scratch = sa.Table(
        "scratch_items",
        Base.metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=True),
    )
    try:
        assert (
            main(
                [
                    "db",
                    "revision",
                    config_file,
                    "-m",
                    "rename",
                    "--autogenerate",
                    "--renames",
                    "--head",
                    "0000aaaa0000",
                ]
            )
            == 0
        )
        assert "renaming scratch_items.title to name" in capsys.readouterr().out
        [written] = [p for p in extra_versions.glob("*rename.py")]
        text = written.read_text()
        assert "with op.batch_alter_table('scratch_items'" in text
        assert "new_column_name='name'" in text or 'new_column_name="name"' in text
        assert "drop_column" not in text and "add_column" not in text

        assert main(["db", "upgrade", config_file]) == 0
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT id, name FROM scratch_items").all() == [
                (1, "kept")
            ]
        # Nothing left to generate: no empty revision is written.
        capsys.readouterr()
        assert main(["db", "revision", config_file, "-m", "nothing", "--autogenerate"]) == 0
        assert "no changes" in capsys.readouterr().out
        assert not list(extra_versions.glob("*nothing.py"))

        assert main(["db", "downgrade", config_file, "0000aaaa0000"]) == 0
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT id, title FROM scratch_items").all() == [
                (1, "kept")
            ]
    finally:
        Base.metadata.remove(scratch)
        engine.dispose()


def test_an_unknown_revision_is_one_line_not_a_traceback(config_file, capsys):
    assert main(["db", "upgrade", config_file]) == 0
    capsys.readouterr()
    assert main(["db", "downgrade", config_file, "nosuchbranch@-1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("openevent: ") and "nosuchbranch" in err
    assert "Traceback" not in err
