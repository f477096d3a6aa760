"""Alembic, as openevent uses it: one config builder for the CLI, the tests and /healthz.

The core's migrations are one branch in ``alembic/versions``; each active plugin with tables adds
its own folder, holding a branch labelled with the plugin's name, so ``upgrade heads`` runs
them all and ``downgrade <plugin>@base`` removes one plugin's tables.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, column, inspect, select, table

from openevent.plugins import migration_locations
from openevent.settings import load_settings

VERSION_TABLE = "alembic_version"


def script_location() -> str:
    """The folder holding env.py and versions/, in a checkout or an installed distribution.

    setup.py installs the repository's alembic/ folder as openevent/alembic; in a checkout (and
    an editable install) it stays beside the package.
    """
    package = Path(__file__).resolve().parent.parent
    installed = package / "alembic"
    return str(installed if installed.is_dir() else package.parent / "alembic")


def alembic_config(
    settings: Mapping[str, Any],
    config_file: str | None = None,
    connection: Connection | None = None,
) -> Config:
    """An alembic ``Config`` for the app's ``settings``.

    ``env.py`` takes the database from ``settings`` (raw ini strings or already typed), or runs
    on ``connection`` when one is given, as the tests do.
    """
    config = Config(config_file) if config_file else Config()
    config.set_main_option("script_location", script_location())
    typed = load_settings(settings)
    # Loading the plugins' entry points also puts their models on Base.metadata for env.py.
    locations = [str(Path(script_location()) / "versions"), *migration_locations(typed)]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.attributes["settings"] = typed
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_directory(settings: Mapping[str, Any]) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(settings))


def core_heads(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The heads of openevent's own branch (those carrying no plugin's branch label)."""
    return tuple(
        sorted(
            script.revision
            for script in script_directory(settings).get_revisions("heads")
            if not script.branch_labels
        )
    )


def expected_heads(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The revisions this code expects the database to be at."""
    return tuple(sorted(script_directory(settings).get_heads()))


def current_heads(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at (empty for a database never migrated).

    Read straight from alembic's table: a MigrationContext would log on every /healthz probe.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(select(column("version_num")).select_from(table(VERSION_TABLE)))
    return tuple(sorted(rows.scalars()))
