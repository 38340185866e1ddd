"""Alembic environment. code4 runs migrations itself at start-up (`Store.migrate`), handing
over its own connection; `alembic` on the command line works too with `-x url=...`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from dispatcher.store.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database as: alembic -x url=postgresql+psycopg://… upgrade head")
    with create_engine(url).connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    # render_as_batch lets later migrations alter columns on SQLite too.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
