"""The migration linter: each rule on a small migration, accepts, and the real migrations."""

import textwrap
from pathlib import Path

import pytest

from openevent.cli import main
from openevent.db.lint import RULES, lint_file, lint_folders
from openevent.db.migrations import script_location
from openevent.plugins import migration_locations

HEADER = '''
"""A test migration."""
import sqlalchemy as sa
from alembic import op

revision = "aaaa"
down_revision = None


def upgrade():
'''


def lint(tmp_path, body: str):
    path = tmp_path / "aaaa_test.py"
    path.write_text(HEADER + textwrap.indent(textwrap.dedent(body), "    "))
    return [(finding.rule, finding.line) for finding in lint_file(path)]


def rules(tmp_path, body: str) -> list[str]:
    return [rule for rule, _ in lint(tmp_path, body)]


def test_a_drop_and_an_add_on_one_table_is_a_drop_add_pair(tmp_path):
    body = """
    op.drop_column("events", "name")
    op.add_column("events", sa.Column("title", sa.String(255), nullable=True))
    """
    findings = lint(tmp_path, body)
    line = HEADER.count("\n") + 2
    assert ("drop-add-pair", line) in findings
    assert ("ban-drop-column", line) in findings


def test_the_pair_is_found_in_batch_mode_too(tmp_path):
    body = """
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(255), nullable=True))
        batch_op.drop_column("name")
    """
    assert sorted(rules(tmp_path, body)) == ["ban-drop-column", "drop-add-pair"]


def test_the_finding_names_file_line_rule_and_fix(tmp_path, capsys):
    lint(
        tmp_path,
        'op.drop_column("events", "name")\nop.add_column("events", sa.Column("t", sa.Text()))\n',
    )
    assert main(["db", "lint", "--path", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'aaaa_test.py'}:{HEADER.count(chr(10)) + 1}: drop-add-pair:" in out
    assert "new_column_name=" in out


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('op.drop_table("events")', ["ban-drop-table"]),
        ('op.drop_column("events", "name")', ["ban-drop-column"]),
        ('op.alter_column("events", "name", type_=sa.Integer())', ["changing-column-type"]),
        (
            'op.alter_column("events", "n", type_=sa.Integer(), postgresql_using="n::integer")',
            [],
        ),
        (
            'op.add_column("events", sa.Column("n", sa.Integer(), nullable=False))',
            ["adding-required-field"],
        ),
        (
            'op.add_column("events", sa.Column("n", sa.Integer(), nullable=False, '
            'server_default="0"))',
            [],
        ),
        ('op.create_index("ix_e_n", "events", ["n"])', ["require-concurrent-index-creation"]),
        ('op.create_index("ix_e_n", "events", ["n"], postgresql_concurrently=True)', []),
        (
            'op.create_foreign_key("fk_e", "events", "users", ["u"], ["id"])',
            ["constraint-missing-not-valid"],
        ),
        (
            'op.create_foreign_key("fk_e", "events", "users", ["u"], ["id"], '
            "postgresql_not_valid=True)",
            [],
        ),
        ('op.create_check_constraint("ck_e", "events", "n > 0")', ["constraint-missing-not-valid"]),
        (
            'op.add_column("events", sa.Column("at", sa.DateTime(), nullable=True))',
            ["prefer-timestamptz"],
        ),
        ('op.add_column("events", sa.Column("at", sa.DateTime(timezone=True)))', []),
    ],
)
def test_each_rule(tmp_path, body, expected):
    assert rules(tmp_path, body) == expected


def test_tables_created_in_the_same_migration_are_exempt(tmp_path):
    body = """
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("notes", sa.Column("n", sa.Integer(), nullable=False))
    op.create_index("ix_notes_n", "notes", ["n"])
    op.create_check_constraint("ck_notes_n", "notes", "n > 0")
    op.drop_column("notes", "n")
    op.drop_table("notes")
    """
    assert rules(tmp_path, body) == []


def test_a_table_created_later_in_the_migration_is_not_exempt_before(tmp_path):
    body = """
    op.create_index("ix_notes_n", "notes", ["n"])
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))
    """
    assert rules(tmp_path, body) == ["require-concurrent-index-creation"]


def test_an_accept_comment_with_a_reason_accepts_the_named_rule_only(tmp_path):
    body = """
    op.drop_column("events", "legacy")  # lint: accept ban-drop-column: unused since 0.2
    op.drop_table("old")  # lint: accept ban-drop-column: wrong rule named
    """
    assert rules(tmp_path, body) == ["ban-drop-table"]


def test_an_accept_comment_may_name_several_rules_on_any_line_of_the_call(tmp_path):
    body = """
    op.drop_column(
        "events",
        "name",  # lint: accept ban-drop-column, drop-add-pair: data copied to title above
    )
    op.add_column("events", sa.Column("title", sa.Text()))
    """
    assert rules(tmp_path, body) == []


def test_an_accept_without_a_reason_is_a_finding(tmp_path):
    body = """
    op.drop_column("events", "legacy")  # lint: accept ban-drop-column
    """
    assert sorted(rules(tmp_path, body)) == ["accept-without-reason", "ban-drop-column"]


def test_an_accept_naming_no_rule_that_exists_is_a_finding(tmp_path):
    body = """
    op.drop_column("events", "legacy")  # lint: accept ban-drop-colum: typo
    """
    assert sorted(rules(tmp_path, body)) == ["ban-drop-column", "unknown-rule"]


def test_only_upgrade_is_read(tmp_path):
    path = tmp_path / "aaaa_test.py"
    path.write_text(HEADER + "    pass\n\n\ndef downgrade():\n    op.drop_table('events')\n")
    assert lint_file(path) == []


def test_every_finding_has_a_fix():
    assert all(RULES.values())


def test_core_and_plugin_migrations_pass_the_linter(app_settings):
    folders = [str(Path(script_location()) / "versions"), *migration_locations(app_settings)]
    # The core's, the first-party plugins' and the sample plugin's (installed for the run).
    assert {Path(folder).parent.name for folder in folders} >= {
        "alembic",
        "openevent_sample_plugin",
        "openevent_versions",
    }
    findings = lint_folders(folders)
    assert findings == [], "\n".join(map(str, findings))


def test_db_lint_exits_zero_on_the_shipped_migrations(capsys):
    assert main(["db", "lint"]) == 0
    assert capsys.readouterr().out.startswith("OK no findings")
