"""Alembic environment: runs against the connection handed in by carbonscope.db.migrate."""

from alembic import context

from carbonscope.db.schema import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from carbonscope.db.engine import get_engine

        with get_engine(config.get_main_option("sqlalchemy.url") or None).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `carbonscope db upgrade`")
run_migrations_online()
