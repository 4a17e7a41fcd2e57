"""Temporary tables of one ingest run: the affected project IDs and the staged events."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    exists,
    func,
    or_,
    select,
    update,
)

from carbonscope.db.bulk import insert_frame
from carbonscope.db.schema import credit_events

_meta = MetaData()
affected = Table("_affected", _meta, Column("id", String(40), primary_key=True), prefixes=["TEMPORARY"])
stage = Table("_stage_events", _meta, *[Column(c.name, c.type) for c in credit_events.columns], prefixes=["TEMPORARY"])
# Events aggregated per project and vintage, once per run; totals of every kind are read from here.
vintage_agg = Table(
    "_vintage_agg",
    _meta,
    Column("project_id", String(40)),
    Column("vintage", Integer),
    Column("issued", BigInteger),
    Column("retired", BigInteger),
    Column("cancelled", BigInteger),
    Column("buffer", BigInteger),
    Column("first_issuance_at", Date),
    Column("first_retirement_at", Date),
    Column("corsia", Integer),  # 1 any row eligible, 0 rows say only no, null nothing said
    prefixes=["TEMPORARY"],
)
EVENT_COLUMNS = [c.name for c in credit_events.columns]
TEXT_FIELDS = ("beneficiary", "reason", "note", "account", "corsia")  # not part of an event's identity


def create(conn: Connection) -> None:
    drop(conn)
    affected.create(conn)
    stage.create(conn)
    vintage_agg.create(conn)


def drop(conn: Connection) -> None:
    for table in (affected, stage, vintage_agg):
        table.drop(conn, checkfirst=True)


def add_affected(conn: Connection, ids: Iterable[str]) -> None:
    new = pd.Series(sorted(set(ids) - _known(conn)), dtype=object)
    if len(new):
        insert_frame(conn, affected.name, pd.DataFrame({"id": new}), ["id"])


def _known(conn: Connection) -> set[str]:
    return set(conn.execute(select(affected.c.id)).scalars())


def stage_events(conn: Connection, events: pd.DataFrame) -> int:
    return insert_frame(conn, stage.name, events, EVENT_COLUMNS)


def new_event_summary(conn: Connection) -> pd.DataFrame:
    """Per project and type: how many staged events are new, and their quantity."""
    is_new = ~exists().where(credit_events.c.id == stage.c.id)
    q = (
        select(
            stage.c.project_id,
            stage.c.type,
            func.count(stage.c.id.distinct()).label("n"),
            func.sum(stage.c.quantity).label("quantity"),
        )
        .where(is_new)
        .group_by(stage.c.project_id, stage.c.type)
    )
    return pd.DataFrame(conn.execute(q).mappings().all(), columns=["project_id", "type", "n", "quantity"])


def commit_events(conn: Connection, new_count: int) -> tuple[int, int]:
    """Insert the new staged events; update the free-text fields of known events that changed.

    A large load drops the ledger's secondary indexes and builds them again afterwards (inside
    the same transaction), which is several times faster than maintaining them row by row.
    """
    staged = conn.execute(select(func.count()).select_from(stage)).scalar_one()
    updated = 0
    if staged > new_count:  # some staged events are known: refresh their text fields
        changed = or_(*[credit_events.c[f].is_distinct_from(stage.c[f]) for f in TEXT_FIELDS])
        upd = (
            update(credit_events)
            .values({f: stage.c[f] for f in TEXT_FIELDS})
            .where(credit_events.c.id == stage.c.id)
            .where(changed)
        )
        updated = int(conn.execute(upd).rowcount or 0)
    if new_count == 0:
        return 0, updated
    existing = conn.execute(select(func.count()).select_from(credit_events)).scalar_one()
    # On PostgreSQL a dropped index locks readers out until commit, so only a first load does it;
    # SQLite readers keep reading their WAL snapshot.
    sqlite = conn.dialect.name == "sqlite"
    rebuild = new_count > 100_000 and (existing == 0 or (sqlite and new_count > existing // 2))
    indexes = list(credit_events.indexes)
    if rebuild:
        for ix in indexes:
            ix.drop(conn)
    cols = [stage.c[c] for c in EVENT_COLUMNS]
    ordered = select(*cols).order_by(stage.c.id)  # key order keeps the primary-key B-tree appends cheap
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    stmt = (
        dialect_insert(credit_events).from_select(EVENT_COLUMNS, ordered).on_conflict_do_nothing(index_elements=["id"])
    )
    conn.execute(stmt)
    inserted = conn.execute(select(func.count()).select_from(credit_events)).scalar_one() - existing
    if rebuild:
        for ix in indexes:
            ix.create(conn)
    return inserted, updated
