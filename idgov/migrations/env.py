"""Alembic environment: runs on the connection idgov hands over (idgov db upgrade)."""

from alembic import context
from sqlalchemy import Connection

from idgov import models  # noqa: F401  (registers every table on Base.metadata)
from idgov.db import Base


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    from idgov.config import load_settings
    from idgov.db import make_engine

    engine = make_engine(load_settings().database)
    with engine.begin() as conn:
        run_on(conn)


run()
