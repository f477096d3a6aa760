"""``openevent db lint``: find migrations that lose data or lock busy tables, before they run.

Migration files are parsed with :mod:`ast`, never imported or executed. Only ``upgrade()`` is
read: a downgrade is expected to undo, and undoing a create is a drop. Each ``op.<operation>``
call is checked, and so is each call on the object a ``with op.batch_alter_table("t") as b:``
block binds. Tables created in the same ``upgrade()`` (``op.create_table``) hold no rows and no
other session uses them yet, so the rules about existing data and locks do not apply to them.

A finding is accepted by a comment on one of the lines of the offending call::

    op.drop_column("events", "legacy")  # lint: accept ban-drop-column: unused since 0.3, backed up

Several rules may be named, separated by commas. An accept comment without a reason is itself a
finding (``accept-without-reason``), and so is one naming a rule that does not exist.
See docs/migrations.md for what each rule guards against.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RULES: dict[str, str] = {
    "drop-add-pair": "rename the column instead: "
    "op.alter_column(TABLE, OLD, new_column_name=NEW) (or openevent.db.migration_ops."
    "rename_column), which keeps its data",
    "ban-drop-column": "stop using the column in one release and drop it in a later one, "
    "after a backup; accept with a reason once nothing reads it",
    "ban-drop-table": "stop using the table in one release and drop it in a later one, after "
    "a backup; accept with a reason once nothing reads it",
    "changing-column-type": "give the conversion (postgresql_using=...), or convert the values "
    "with openevent.db.migration_ops.change_column_type(..., mapping=...)",
    "adding-required-field": "add the column nullable or with server_default=..., fill it, "
    "then make it NOT NULL",
    "require-concurrent-index-creation": "pass postgresql_concurrently=True inside "
    "`with op.get_context().autocommit_block():`",
    "constraint-missing-not-valid": "pass postgresql_not_valid=True, then validate it in a "
    "later migration (ALTER TABLE ... VALIDATE CONSTRAINT ...)",
    "prefer-timestamptz": "use sa.DateTime(timezone=True): timestamps are stored in UTC",
    "accept-without-reason": "write `# lint: accept RULE: why it is safe here`",
    "unknown-rule": "name one of the rules listed in docs/migrations.md",
}

_ACCEPT = re.compile(r"#\s*lint:\s*accept\b\s*(?P<rules>[\w\s,-]*?)\s*(?::\s*(?P<reason>.*))?$")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    rule: str
    message: str

    @property
    def fix(self) -> str:
        return RULES[self.rule]

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}\n    fix: {self.fix}"


def _accepts(source: str) -> dict[int, tuple[set[str], str]]:
    """line -> (rules accepted on it, reason) from ``# lint: accept`` comments."""
    accepts: dict[int, tuple[set[str], str]] = {}
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _ACCEPT.match(token.string)
        if match:
            rules = {r for r in re.split(r"[\s,]+", match["rules"]) if r}
            accepts[token.start[0]] = (rules, (match["reason"] or "").strip())
    return accepts


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    # op.f("name") is a name too.
    if isinstance(node, ast.Call) and node.args and _call_name(node) == "f":
        return _string(node.args[0])
    return None


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _arg(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _kw_true(call: ast.Call, keyword: str) -> bool:
    value = _arg(call, 10_000, keyword)
    return isinstance(value, ast.Constant) and value.value is True


def _has_kw(call: ast.Call, keyword: str) -> bool:
    return any(kw.arg == keyword for kw in call.keywords)


class _Upgrade(ast.NodeVisitor):
    """Collects the operations of ``upgrade()`` as (line, end line, table, op, call)."""

    def __init__(self) -> None:
        self.operations: list[tuple[int, int, str | None, str, ast.Call]] = []
        self.batches: dict[str, str | None] = {}  # name bound by `as` -> table
        self.datetimes: list[ast.AST] = []

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            call = item.context_expr
            if (
                isinstance(call, ast.Call)
                and _call_name(call) == "batch_alter_table"
                and isinstance(item.optional_vars, ast.Name)
            ):
                self.batches[item.optional_vars.id] = _string(_arg(call, 0, "table_name"))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = _call_name(node)
        with_zone = _kw_true(node, "timezone") or (
            node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is True
        )
        if name in {"DateTime", "TIMESTAMP"} and not with_zone:
            self.datetimes.append(node)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner = func.value.id
            end = node.end_lineno or node.lineno
            if owner == "op":
                self.operations.append((node.lineno, end, None, func.attr, node))
            elif owner in self.batches:
                self.operations.append((node.lineno, end, self.batches[owner], func.attr, node))
        self.generic_visit(node)


# (operation, position of the table argument, its keyword) for op.* calls; batch calls take the
# table from their `with` block and have the remaining arguments shifted one place left.
_TABLE_ARG = {
    "create_table": (0, "table_name"),
    "drop_table": (0, "table_name"),
    "add_column": (0, "table_name"),
    "drop_column": (0, "table_name"),
    "alter_column": (0, "table_name"),
    "create_index": (1, "table_name"),
    "create_foreign_key": (1, "source_table"),
    "create_check_constraint": (1, "table_name"),
}


def _lint_source(source: str, path: str) -> list[Finding]:
    tree = ast.parse(source, filename=path)
    upgrade = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None
    )
    if upgrade is None:
        return []
    visitor = _Upgrade()
    visitor.visit(upgrade)
    raw: list[tuple[int, int, str, str]] = []  # line, end line, rule, message

    def table_of(op_table: str | None, name: str, call: ast.Call) -> str | None:
        if op_table is not None or name not in _TABLE_ARG:
            return op_table
        position, keyword = _TABLE_ARG[name]
        return _string(_arg(call, position, keyword))

    def shift(batch: bool, position: int) -> int:
        # Batch operations take no table argument: everything moves one place left.
        return position - 1 if batch else position

    created: set[str] = set()
    dropped: dict[str, list[tuple[int, int, str]]] = {}
    added: dict[str, list[tuple[int, int, str]]] = {}
    for line, end, batch_table, name, call in sorted(visitor.operations, key=lambda o: o[:2]):
        batch = batch_table is not None
        table = table_of(batch_table, name, call)
        if name == "create_table" and table:
            created.add(table)
            continue
        existing = table not in created
        if name == "drop_table" and existing:
            raw.append((line, end, "ban-drop-table", f"drops table {table}"))
        elif name == "drop_column":
            column = _string(_arg(call, shift(batch, 1), "column_name")) or "?"
            dropped.setdefault(table or "?", []).append((line, end, column))
            if existing:
                raw.append((line, end, "ban-drop-column", f"drops column {table}.{column}"))
        elif name == "add_column":
            column_call = _arg(call, shift(batch, 1), "column")
            column = "?"
            if isinstance(column_call, ast.Call):
                column = _string(_arg(column_call, 0, "name")) or "?"
                nullable = _arg(column_call, 10_000, "nullable")
                required = isinstance(nullable, ast.Constant) and nullable.value is False
                if (
                    required
                    and existing
                    and not _has_kw(column_call, "server_default")
                    and not _kw_true(column_call, "primary_key")
                ):
                    raw.append(
                        (
                            line,
                            end,
                            "adding-required-field",
                            f"adds NOT NULL column {table}.{column} without a server default",
                        )
                    )
            added.setdefault(table or "?", []).append((line, end, column))
        elif name == "alter_column" and existing:
            column = _string(_arg(call, shift(batch, 1), "column_name")) or "?"
            if _has_kw(call, "type_") and not _has_kw(call, "postgresql_using"):
                raw.append(
                    (
                        line,
                        end,
                        "changing-column-type",
                        f"changes the type of {table}.{column} without a conversion",
                    )
                )
        elif name == "create_index" and existing and not _kw_true(call, "postgresql_concurrently"):
            index = _string(_arg(call, 0, "index_name")) or "?"
            raw.append(
                (
                    line,
                    end,
                    "require-concurrent-index-creation",
                    f"creates index {index} on existing table {table} without CONCURRENTLY",
                )
            )
        elif (
            name in {"create_foreign_key", "create_check_constraint"}
            and existing
            and not _kw_true(call, "postgresql_not_valid")
        ):
            kind = "foreign key" if name == "create_foreign_key" else "check constraint"
            constraint = _string(_arg(call, 0, "constraint_name")) or "?"
            raw.append(
                (
                    line,
                    end,
                    "constraint-missing-not-valid",
                    f"adds {kind} {constraint} to existing table {table} without NOT VALID",
                )
            )
    for table, drops in dropped.items():
        adds = added.get(table, [])
        if table in created or not adds:
            continue
        new_names = ", ".join(column for _, _, column in adds)
        for line, end, column in drops:
            raw.append(
                (
                    line,
                    end,
                    "drop-add-pair",
                    f"drops {table}.{column} and adds {new_names} in the same migration: "
                    "a rename written as a drop loses the column's data",
                )
            )
    for node in visitor.datetimes:
        raw.append(
            (
                node.lineno,
                node.end_lineno or node.lineno,
                "prefer-timestamptz",
                "a timestamp without time zone",
            )
        )

    accepts = _accepts(source)
    findings: list[Finding] = []
    for line, (rules, reason) in accepts.items():
        if not reason:
            findings.append(
                Finding(path, line, "accept-without-reason", "an accept comment gives no reason")
            )
        for rule in sorted(rules - set(RULES)):
            findings.append(Finding(path, line, "unknown-rule", f"no rule is called {rule!r}"))
    for line, end, rule, message in raw:
        accepted = any(
            rule in accepts.get(n, ((), ""))[0] and accepts[n][1] for n in range(line, end + 1)
        )
        if not accepted:
            findings.append(Finding(path, line, rule, message))
    return sorted(set(findings))


def lint_file(path: str | Path) -> list[Finding]:
    path = Path(path)
    return _lint_source(path.read_text(encoding="utf-8"), str(path))


def lint_folders(folders: Iterable[str | Path]) -> list[Finding]:
    """Every finding in the migrations (``*.py`` files) of ``folders``."""
    findings: list[Finding] = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.py")):
            if path.name != "__init__.py":
                findings.extend(lint_file(path))
    return findings
