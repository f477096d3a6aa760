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
    assert capsys.readouterr().out.startswith(f"OK one head per branch (openevent {core}")

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
