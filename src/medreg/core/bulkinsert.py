"""Fast multi-row INSERTs for bulk imports, in the caller's transaction (never commits).

``insert_rows(session, table, rows)`` writes plain dicts (one key per column written; the same keys in
every row) with the driver's own bulk path instead of SQLAlchemy's per-row parameter processing:

- SQLite: one ``executemany`` of a prepared ``INSERT`` (sqlite3 loops in C);
- PostgreSQL: ``COPY ... FROM STDIN`` (psycopg), the fastest way into PostgreSQL.

Values go through each column type's own bind processor (``UTCDateTime`` stores UTC, ``JSON`` is
serialised by the engine's serialiser), so what is stored is exactly what an ORM insert would store.
``with_ids=True`` gives the rows new primary keys first (PostgreSQL: ``nextval`` of the table's
sequence, once for the batch; SQLite: the first row is inserted alone for its rowid, which this
transaction then holds the write lock for, and the others follow it) and returns them in row order.
"""

from __future__ import annotations

from sqlalchemy import Table, text
from sqlalchemy.orm import Session


def _processors(table: Table, columns: list[str], dialect) -> list:
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


def _values(rows: list[dict], columns: list[str], processors: list) -> list[tuple]:
    if not any(processors):
        return [tuple(row[c] for c in columns) for row in rows]
    pairs = list(zip(columns, processors, strict=True))
    return [tuple(row[c] if p is None else p(row[c]) for c, p in pairs) for row in rows]


def _new_ids(session: Session, table: Table, rows: list[dict]) -> list[int]:
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        seq = session.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar_one()
        return list(session.execute(text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                                    {"s": seq, "n": len(rows)}).scalars())
    # SQLite: the first row takes its rowid (and the database's write lock for this transaction); the
    # others take the following ids, which no other writer can take before this transaction ends.
    first = session.execute(table.insert().values(**rows[0]).returning(table.c.id)).scalar_one()
    return list(range(first, first + len(rows)))


def insert_rows(session: Session, table: Table, rows: list[dict], *, with_ids: bool = False) -> list[int]:
    """Insert ``rows`` into ``table``; return the new ids in row order when ``with_ids``."""
    if not rows:
        return []
    conn = session.connection()
    dialect = conn.dialect
    columns = list(rows[0])
    ids: list[int] = []
    if with_ids:
        ids = _new_ids(session, table, rows)
        rest = rows if dialect.name == "postgresql" else rows[1:]
        start = 0 if dialect.name == "postgresql" else 1
        rows = [dict(row, id=i) for row, i in zip(rest, ids[start:], strict=True)]
        columns = ["id", *columns]
        if not rows:
            return ids
    values = _values(rows, columns, _processors(table, columns, dialect))
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    quoted = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cur, cur.copy(
                f"COPY {quoted} ({names}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.connection.driver_connection.cursor().executemany(
            f"INSERT INTO {quoted} ({names}) VALUES ({marks})", values)
    return ids
