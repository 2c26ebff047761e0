"""Migrations: the migrated schema is exactly the models' schema; the foundation never goes back."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect

from idgov import models  # noqa: F401  (registers every table on Base.metadata)
from idgov.db import Base, alembic_config, current_revision, head_revision, upgrade_database
from idgov.wiring import Services

TABLES = set(Base.metadata.tables)
# Per-database printed-name prefix indexes of migration 0013_people_list: collated
# expressions that Alembic cannot compare, so they stay out of the metadata
# (test_console_people.py checks that they exist).
DIALECT_INDEXES = {"ix_identities_name_prefix", "ix_identities_name_nocase"}


def compared(obj: object, name: str | None, type_: str, *_rest: object) -> bool:
    return not (type_ == "index" and name in DIALECT_INDEXES)


def test_database_is_at_the_head_revision(services: Services) -> None:
    assert current_revision(services.engine) == head_revision()
    assert set(inspect(services.engine).get_table_names()) - {"alembic_version"} == TABLES


def test_migrated_schema_matches_the_models(services: Services) -> None:
    # Types, nullability, indexes, unique constraints, tables: nothing is ignored but the
    # per-database prefix indexes named above.
    with services.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": compared}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_again_is_a_no_op(services: Services) -> None:
    upgrade_database(services.engine)
    assert current_revision(services.engine) == head_revision()


@pytest.mark.req("REC-1")
def test_foundation_downgrade_is_refused(services: Services) -> None:
    with (
        pytest.raises(RuntimeError, match="cannot be downgraded"),
        services.engine.begin() as connection,
    ):
        command.downgrade(alembic_config(connection), "base")
    assert current_revision(services.engine) == head_revision()
    assert set(inspect(services.engine).get_table_names()) - {"alembic_version"} == TABLES


def test_comparison_would_notice_a_model_change(services: Services) -> None:
    # Guards the test above: a column the migration lacks must show up as a difference.
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["signing_keys"].append_column(Column("comment", String(100)))
    with services.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": compared}
        )
        differences = compare_metadata(context, changed)
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "comment")]
