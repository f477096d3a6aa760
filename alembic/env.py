"""Alembic environment: the database and the timeouts come from the app's settings.

Works both from the alembic command line (``alembic -c development.ini upgrade head``) and from
openevent itself (``openevent db upgrade``, the test fixtures), which pass typed settings and
sometimes a connection through ``config.attributes``.
"""

from logging.config import fileConfig

from alembic import context
from pyramid.paster import get_appsettings

import openevent.models  # noqa: F401  (registers the core tables on Base.metadata)
from openevent.db import Base, UTCDateTime, get_engine
from openevent.settings import load_settings

config = context.config


def _settings():
    settings = config.attributes.get("settings")
    if settings is None:
        # Plain `alembic -c some.ini`: read the [app:main] section like pserve would.
        if config.config_file_name:
            fileConfig(config.config_file_name, disable_existing_loggers=False)
        settings = load_settings(get_appsettings(config.config_file_name))
    return settings


def _render_item(type_, obj, autogen_context):
    # Migrations stay self-contained: they must not change meaning when app types evolve.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure_and_run(connection, settings):
    if connection.dialect.name == "postgresql":
        # Fail fast instead of queueing behind live traffic, and never hang a deploy.
        lock_ms = settings["openevent.db.lock_timeout_ms"]
        statement_ms = settings["openevent.db.statement_timeout_ms"]
        connection.exec_driver_sql(f"SET lock_timeout = {int(lock_ms)}")
        connection.exec_driver_sql(f"SET statement_timeout = {int(statement_ms)}")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        transaction_per_migration=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # openevent's SQLite connections emit BEGIN themselves (see openevent.db.session), so
        # DDL there is transactional too: a failed migration leaves nothing half-done.
        transactional_ddl=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline():
    settings = _settings()
    context.configure(
        url=settings["sqlalchemy.url"],
        target_metadata=Base.metadata,
        literal_binds=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    settings = _settings()
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, settings)
        return
    engine = get_engine(settings)
    try:
        with engine.connect() as connection:
            _configure_and_run(connection, settings)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
