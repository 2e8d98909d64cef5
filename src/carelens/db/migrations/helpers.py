"""Helpers for revisions that take over tables an older release created outside Alembic.

Why: releases up to 0.1.0 wrote the ``demand_*`` tables with pandas ``to_sql`` (types guessed per
frame, no keys, no indexes). A revision that declares such a table must work on a fresh store
(create it) and on an existing one (keep every row), and both must end with the same schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from carelens.db.introspect import column_names
from carelens.errors import StoreError


def create_or_adopt(table: sa.Table, revision: str) -> None:
    """Create ``table`` (declared in the revision, on the revision's own ``MetaData``), or rebuild
    the existing table of that name into exactly this shape, keeping every row.

    The rebuild renames the old table aside, creates the declared one (keys, indexes), copies the
    rows with each column ``CAST`` to its declared type, and drops the old table: all inside the
    migration's transaction, so a failure (a value that does not cast, a NULL where the declaration
    forbids it) leaves the store as it was. A column the declaration does not have stops the
    migration with a message naming it rather than dropping its values.
    """
    conn = op.get_bind()
    existing = column_names(conn, table.name)
    if not existing:
        table.create(conn)
        return
    unknown = [c for c in existing if c not in table.c]
    if unknown:
        raise StoreError(f"cannot upgrade table {table.name}: it has a column {unknown[0]!r} that carelens does not "
                         "know; rename or drop it, then run `carelens db upgrade` again", field=unknown[0])
    required = [c.name for c in table.columns if not c.nullable and c.name not in existing]
    if required:
        raise StoreError(f"cannot upgrade table {table.name}: it has no {required[0]!r} column", field=required[0])
    stash = f"{table.name}_before_{revision}"
    op.rename_table(table.name, stash)
    table.create(conn)
    kept = [c for c in table.columns if c.name in existing]
    old = sa.table(stash, *[sa.column(c.name) for c in kept])
    conn.execute(sa.insert(table).from_select([c.name for c in kept],
                                              sa.select(*[sa.cast(old.c[c.name], c.type) for c in kept])))
    op.drop_table(stash)
