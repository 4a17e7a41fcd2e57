"""One ingest run, atomic: parse files, stage rows, merge projects, rebuild totals, record changes.

Everything happens in one database transaction: a run either commits completely or leaves the
database exactly as it was (an exception rolls back; a killed process leaves an uncommitted
transaction that the database discards). A file whose content (sha256) was already ingested by
the same parser version is recorded as ``unchanged`` and not read again.

Each file is, unless marked partial, the current export of its (source, kind): what the previous
export of that kind held and this one does not is retracted (see :mod:`carbonscope.ingest.retraction`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from carbonscope.db import migrate
from carbonscope.db.bulk import insert_frame, timestamp_text
from carbonscope.db.engine import get_engine
from carbonscope.db.engine import write as db_write
from carbonscope.db.schema import (
    changes,
    credit_events,
    ingest_warnings,
    project_series,
    projects,
    snapshots,
    source_files,
    source_records,
    stated_totals,
)
from carbonscope.errors import InputError
from carbonscope.ingest import changes as change_feed
from carbonscope.ingest import merge, retraction, staging, totals
from carbonscope.ingest.ids import event_ids
from carbonscope.prefetch import prefetch
from carbonscope.progress import NullProgress, Progress
from carbonscope.registry.base import Parser
from carbonscope.registry.detect import detect, expand_paths
from carbonscope.registry.reading import Issues, RowIssue, read_header

MAX_WARNINGS_STORED = 5000


@dataclass
class FileReport:
    path: str
    source: str
    kind: str
    status: str  # ingested | unchanged | older (an older export than the one applied: not applied)
    rows: int = 0
    projects: int = 0
    events: int = 0
    warnings: list[RowIssue] = field(default_factory=list)
    skipped_rows: int = 0


SnapshotHook = Callable[[Connection, int], int]  # (connection, snapshot id) -> a count for the report


@dataclass
class IngestReport:
    snapshot_id: int
    files: list[FileReport]
    projects_touched: int = 0
    new_projects: int = 0
    new_events: int = 0
    updated_events: int = 0
    retracted_events: int = 0
    corrected_events: int = 0
    delisted_records: int = 0
    changes: int = 0
    reconciliation_differences: int = 0
    hook_results: dict[str, int] = field(
        default_factory=dict
    )  # what each post-snapshot hook did (e.g. notifications: 3)
    seconds: float = 0.0

    @property
    def notifications(self) -> int:
        return self.hook_results.get("notifications", 0)

    @property
    def unchanged(self) -> bool:
        return all(f.status == "unchanged" for f in self.files)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def ingest(
    paths: list[Path] | list[str],
    engine: Engine | None = None,
    *,
    source: str | None = None,
    force: bool = False,
    strict: bool = False,
    partial: bool = False,
    retrieved_at: datetime | None = None,
    progress: Progress | None = None,
    command: str = "ingest",
    hooks: Mapping[str, SnapshotHook] | None = None,
) -> IngestReport:
    """Ingest registry files or folders into the database; see the module docstring.

    ``hooks`` run inside the ingest's transaction once a snapshot recorded changes, each given the
    connection and the snapshot id, returning a count kept in ``report.hook_results`` under its
    name. The app and the CLI register theirs (alerts to watchers: ``jobs.ingest_files``), so the
    data engine knows nothing of the features built on it."""
    t0 = time.perf_counter()
    progress = progress or NullProgress()
    engine = engine or get_engine()
    migrate.ensure_schema(engine)
    files = expand_paths([Path(p) for p in paths])
    if not files:
        raise InputError("no CSV, Parquet or Excel files found", file=", ".join(str(p) for p in paths))
    plan = [(f, detect(f, source)) for f in files]  # refuse unrecognised files before writing anything
    # Older exports first, so the newest file of each kind is the one that states what is current.
    plan.sort(key=lambda fp: retraction.export_date(fp[0], retrieved_at)[0])

    waiting = lambda: progress.log("another ingest is writing to this database: waiting for it to finish")  # noqa: E731
    with db_write(engine, long=True, on_wait=waiting) as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA cache_size=-131072")  # 128 MB for this writer
        staging.create(conn)
        now = datetime.now(UTC)
        snap = conn.execute(
            insert(snapshots).values(started_at=now, command=command).returning(snapshots.c.id)
        ).scalar_one()
        run = _Run(conn, snap, force, strict, retrieved_at, progress, partial, hooks or {})
        for path, parser in plan:
            run.file(path, parser)
        report = run.finish()
        staging.drop(conn)
    report.seconds = time.perf_counter() - t0
    return report


class _Run:
    def __init__(
        self,
        conn: Connection,
        snap: int,
        force: bool,
        strict: bool,
        retrieved_at: datetime | None,
        progress: Progress,
        partial: bool = False,
        hooks: Mapping[str, SnapshotHook] | None = None,
    ):
        self.conn, self.snap, self.force, self.strict, self.progress = conn, snap, force, strict, progress
        self.hooks = dict(hooks or {})
        self.retrieved_at, self.partial = retrieved_at, partial
        self.reports: list[FileReport] = []
        self.current: dict[str, int] = {}  # source key -> file id of the newest complete events file of this run
        self.delisted: list[tuple[str, str]] = []  # (project, source key)
        # A first load into an empty SQLite ledger writes events straight into it (no staging),
        # with its secondary indexes built once at the end.
        self.direct = (
            conn.dialect.name == "sqlite" and conn.execute(select(credit_events.c.id).limit(1)).first() is None
        )
        self.direct_summary: list[pd.DataFrame] = []
        if self.direct:
            for ix in credit_events.indexes:
                ix.drop(conn)

    # ----------------------------------------------------------------- one file
    def file(self, path: Path, parser: Parser) -> None:
        conn = self.conn
        sha = sha256_of(path)
        size = path.stat().st_size
        retrieved = self.retrieved_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        exported, basis = retraction.export_date(path, self.retrieved_at)
        report = FileReport(str(path), parser.source, parser.kind, "ingested")
        self.reports.append(report)
        file_row = dict(
            snapshot_id=self.snap,
            path=str(path.resolve()),
            size=size,
            sha256=sha,
            source=parser.source,
            kind=parser.kind,
            parser_version=parser.version,
            retrieved_at=retrieved,
            exported_at=exported,
            date_basis=basis,
            partial=self.partial,
            columns=read_header(path),  # the next download's schema is checked against it (ops.checks)
        )
        if not self.force and self._seen(sha, parser):
            report.status = "unchanged"
            conn.execute(insert(source_files).values(**file_row, status="unchanged"))
            self.progress.log(f"unchanged: {path.name} ({parser.label})")
            return
        newest = retraction.newest_applied(conn, parser.source, parser.kind)
        if not self.partial and newest is not None and exported < newest:
            report.status = "older"
            conn.execute(insert(source_files).values(**file_row, status="older"))
            self.progress.log(
                f"not applied: {path.name} is an older {parser.label} ({basis} {exported:%Y-%m-%d}) than the one loaded ({newest:%Y-%m-%d})"
            )
            return
        file_id = conn.execute(
            insert(source_files).values(**file_row, status="ingested").returning(source_files.c.id)
        ).scalar_one()

        issues = Issues(str(path))
        task = self.progress.task(f"{parser.source}/{path.name}", total=_count_lines(path, size))
        seen: dict[str, int] = {}
        project_frames, stated_frames, series_frames = [], [], []
        for batch in prefetch(parser.parse(path, issues)):
            if batch.events is not None and len(batch.events):
                report.events += self._stage(batch.events, parser, file_id, seen, issues)
            if batch.projects is not None:
                project_frames.append(batch.projects)
            if batch.stated is not None:
                stated_frames.append(batch.stated)
            if batch.series is not None:
                series_frames.append(batch.series)
            self.progress.update(task, completed=issues.rows)
        if self.strict and issues.items:
            first = issues.items[0]
            raise InputError(
                f"{first.message} (and {len(issues.items) - 1} more; --strict refuses any)",
                file=str(path),
                row=first.row,
                column=first.column,
            )

        proj = merge.reduce_file_projects(project_frames)
        report.projects = len(proj)
        report.rows = issues.rows
        self._write_records(proj, parser, file_id, exported)
        if not self.partial and parser.kind == "projects":
            gone = retraction.delist_missing(conn, parser.key, proj["id"].tolist() if len(proj) else [], self.snap)
            self.delisted += [(pid, parser.key) for pid in gone]
        if not self.partial and report.events and not self.direct:
            self.current[parser.key] = file_id
        self._write_stated(stated_frames, parser, file_id)
        self._write_series(series_frames, parser)
        report.warnings = issues.items
        report.skipped_rows = len(issues.skipped_rows)
        if issues.items:
            w = pd.DataFrame(
                [
                    {"file_id": file_id, "row": i.row, "column": i.column, "message": i.message}
                    for i in issues.items[:MAX_WARNINGS_STORED]
                ]
            )
            insert_frame(conn, ingest_warnings.name, w, ["file_id", "row", "column", "message"])
        conn.execute(
            update(source_files)
            .where(source_files.c.id == file_id)
            .values(rows=report.rows, skipped_rows=report.skipped_rows)
        )
        self.progress.update(task, completed=report.rows, total=report.rows)

    def _seen(self, sha: str, parser: Parser) -> bool:
        q = select(source_files.c.id).where(
            source_files.c.sha256 == sha,
            source_files.c.source == parser.source,
            source_files.c.kind == parser.kind,
            source_files.c.parser_version == parser.version,
            source_files.c.status == "ingested",
        )
        return self.conn.execute(q.limit(1)).first() is not None

    def _stage(self, ev: pd.DataFrame, parser: Parser, file_id: int, seen: dict[str, int], issues: Issues) -> int:
        ev = ev[ev["quantity"].notna()]
        zero = ev["quantity"] <= 0
        if zero.any():
            issues.add(ev.loc[zero, "_row"], None, "zero quantity (event skipped)", skip=False)
            ev = ev[~zero]
        if "serial_start" in ev:
            span = ev["serial_end"].astype("Float64") - ev["serial_start"].astype("Float64") + 1
            odd = (
                span.notna() & (span != ev["quantity"]) & ev["type"].isin(["retirement", "cancellation", "conversion"])
            )
            if odd.any():
                issues.add(
                    ev.loc[odd, "_row"],
                    "serial",
                    f"serial block holds {int(span[odd].iloc[0])} credits but quantity is {int(ev.loc[odd, 'quantity'].iloc[0])}",
                    skip=False,
                )
        ev = ev.assign(
            id=event_ids(ev, parser.key, seen),
            source=parser.key,
            file_id=file_id,
            row=ev["_row"],
            snapshot_id=self.snap,
            quantity=ev["quantity"].astype(np.int64),
        )
        staging.add_affected(self.conn, ev["project_id"].unique())
        if self.direct:
            self.direct_summary.append(
                ev.groupby(["project_id", "type"], as_index=False).agg(n=("id", "size"), quantity=("quantity", "sum"))
            )
            return insert_frame(self.conn, credit_events.name, ev, staging.EVENT_COLUMNS, or_ignore=True)
        return staging.stage_events(self.conn, ev)

    def _write_records(self, proj: pd.DataFrame, parser: Parser, file_id: int, retrieved: datetime) -> None:
        if proj.empty:
            return
        ids = proj["id"].tolist()
        staging.add_affected(self.conn, ids)
        self.conn.execute(
            delete(source_records).where(
                source_records.c.source == parser.key, source_records.c.project_id == bindparam("pid")
            ),
            [{"pid": i} for i in ids],
        )
        payload = merge.record_payloads(proj).assign(
            source=parser.key, rank=parser.rank, file_id=file_id, retrieved_at=timestamp_text(self.conn, retrieved)
        )
        insert_frame(
            self.conn,
            source_records.name,
            payload,
            ["project_id", "source", "rank", "file_id", "row", "retrieved_at", "data"],
        )

    def _write_stated(self, frames: list[pd.DataFrame], parser: Parser, file_id: int) -> None:
        frames = [f for f in frames if f is not None and len(f)]
        if not frames:
            return
        st = pd.concat(frames, ignore_index=True)
        if "_row" not in st:
            st["_row"] = pd.NA
        st = st.groupby(["project_id", "metric"], as_index=False).agg(value=("value", "sum"), row=("_row", "min"))
        self.conn.execute(
            delete(stated_totals).where(
                stated_totals.c.source == parser.key, stated_totals.c.project_id == bindparam("pid")
            ),
            [{"pid": p} for p in st["project_id"].unique()],
        )
        st = st.assign(
            source=parser.key,
            file_id=file_id,
            value=st["value"].astype(np.int64),
            row=pd.to_numeric(st["row"], errors="coerce").astype("Int64"),
        )
        insert_frame(self.conn, stated_totals.name, st, ["project_id", "source", "metric", "value", "file_id", "row"])

    def _write_series(self, frames: list[pd.DataFrame], parser: Parser) -> None:
        frames = [f for f in frames if f is not None and len(f)]
        if not frames:
            return
        se = (
            pd.concat(frames, ignore_index=True)
            .groupby(["project_id", "series", "year"], as_index=False)["quantity"]
            .sum()
        )
        self.conn.execute(
            delete(project_series).where(
                project_series.c.source == parser.source, project_series.c.project_id == bindparam("pid")
            ),
            [{"pid": p} for p in se["project_id"].unique()],
        )
        insert_frame(
            self.conn,
            project_series.name,
            se.assign(source=parser.source),
            ["project_id", "series", "year", "quantity", "source"],
        )

    # ----------------------------------------------------------------- finish
    def finish(self) -> IngestReport:
        conn = self.conn
        report = IngestReport(self.snap, self.reports)
        retracted = pd.DataFrame()
        if self.direct:
            new_summary = self._direct_summary()
        else:
            new_summary = staging.new_event_summary(conn)
            retraction.restore_reappeared(conn)
            report.new_events, report.updated_events = staging.commit_events(
                conn, int(new_summary["n"].sum()) if len(new_summary) else 0
            )
            gone = [retraction.retract_missing(conn, key, fid, self.snap) for key, fid in self.current.items()]
            gone = [g for g in gone if len(g)]
            if gone:
                retracted = pd.concat(gone, ignore_index=True)
                report.corrected_events = int((retracted["retraction"] == "corrected").sum())
                report.retracted_events = len(retracted) - report.corrected_events
        report.delisted_records = len(self.delisted)
        ids = sorted(staging._known(conn))
        if ids:
            task = self.progress.task("merging projects, totals and changes", total=5)
            before = change_feed.before_state(conn)
            if self.direct:
                report.new_events = conn.execute(select(func.count()).select_from(credit_events)).scalar_one()
                for ix in credit_events.indexes:
                    ix.create(conn)
            totals.aggregate_events(conn)
            self.progress.advance(task)
            merged = self._merge()
            self.progress.advance(task)
            ledger, st = totals.event_totals(conn), totals.stated(conn)  # read once, used by totals and reconciliation
            tot = totals.project_totals(conn, merged["id"].tolist(), ledger, st)
            merged = merged.merge(tot, on="id", how="left")
            # Without events, the first dates a bulk source states (OffsetsDB) stand in
            for col, stated_col in (
                ("first_issuance_at", "stated_first_issuance"),
                ("first_retirement_at", "stated_first_retirement"),
            ):
                if stated_col in merged:
                    merged[col] = merged[col].where(
                        merged[col].notna(), pd.to_datetime(merged[stated_col], errors="coerce").dt.date
                    )
            self._upsert_projects(merged, before)
            self.progress.advance(task)
            totals.rebuild_vintage_totals(conn, set(tot.loc[tot["ledger_complete"].astype(bool), "id"]))
            report.reconciliation_differences = totals.reconcile(conn, tot, self.snap, ledger, st)
            self.progress.advance(task)
            now = datetime.now(UTC)
            feed = change_feed.diff(before, merged, new_summary, report.updated_events, now, self.snap)
            feed += change_feed.retractions(retracted, self.delisted, now, self.snap)
            if feed:
                conn.execute(insert(changes), feed)
                for name, hook in self.hooks.items():
                    report.hook_results[name] = hook(conn, self.snap)
            self.progress.advance(task)
            report.projects_touched = len(merged)
            report.new_projects = int((~merged["id"].isin(before.index)).sum())
            report.changes = len(feed)
        elif self.direct:
            for ix in credit_events.indexes:
                ix.create(conn)
        summary = {
            "files": len(self.reports),
            "unchanged_files": sum(f.status == "unchanged" for f in self.reports),
            "projects_touched": report.projects_touched,
            "new_projects": report.new_projects,
            "new_events": report.new_events,
            "updated_events": report.updated_events,
            "retracted_events": report.retracted_events,
            "corrected_events": report.corrected_events,
            "delisted_records": report.delisted_records,
            "changes": report.changes,
            "warnings": sum(len(f.warnings) for f in self.reports),
        }
        conn.execute(
            update(snapshots).where(snapshots.c.id == self.snap).values(finished_at=datetime.now(UTC), summary=summary)
        )
        return report

    def _direct_summary(self) -> pd.DataFrame:
        if not self.direct_summary:
            return pd.DataFrame(columns=["project_id", "type", "n", "quantity"])
        return pd.concat(self.direct_summary).groupby(["project_id", "type"], as_index=False)[["n", "quantity"]].sum()

    def _merge(self) -> pd.DataFrame:
        sr = source_records
        q = select(
            sr.c.project_id,
            sr.c.source,
            sr.c.rank,
            sr.c.file_id,
            sr.c.row,
            sr.c.retrieved_at,
            sr.c.data,
            sr.c.delisted_snapshot,
        ).join(staging.affected, staging.affected.c.id == sr.c.project_id)
        records = pd.DataFrame(
            self.conn.execute(q).all(),
            columns=["project_id", "source", "rank", "file_id", "row", "retrieved_at", "data", "delisted_snapshot"],
        )
        file_ids = [int(i) for i in records["file_id"].unique()]
        f = source_files
        files = (
            {
                int(i): (p, b)
                for i, p, b in self.conn.execute(select(f.c.id, f.c.path, f.c.date_basis).where(f.c.id.in_(file_ids)))
            }
            if file_ids
            else {}
        )
        return merge.merge_records(records, files)

    def _upsert_projects(self, merged: pd.DataFrame, before: pd.DataFrame) -> None:
        cols = [c.name for c in projects.columns]
        df = merged.assign(
            created_snapshot=[self.snap if i not in before.index else None for i in merged["id"]],
            updated_snapshot=self.snap,
        )
        records = [_clean(r) for r in df.reindex(columns=cols).to_dict("records")]
        dialect = self.conn.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        stmt = dialect_insert(projects)
        keep_created = {c: stmt.excluded[c] for c in cols if c not in ("id", "created_snapshot")}
        stmt = stmt.on_conflict_do_update(index_elements=["id"], set_=keep_created)
        for start in range(0, len(records), 5000):
            self.conn.execute(stmt, records[start : start + 5000])


def _clean(rec: dict) -> dict:
    out: dict = {}
    for k, v in rec.items():
        if isinstance(v, (list, dict)):
            out[k] = v
        elif v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            out[k] = None
        elif isinstance(v, pd.Timestamp):
            out[k] = v.date()
        elif isinstance(v, np.integer):
            out[k] = int(v)
        elif isinstance(v, np.floating):
            out[k] = float(v)
        elif isinstance(v, np.bool_):
            out[k] = bool(v)
        else:
            out[k] = v
    return out


def _count_lines(path: Path, size: int) -> int | None:
    if path.suffix.lower() != ".csv" or size > 2_000_000_000:
        return None
    with open(path, "rb") as fh:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b"")) - 1, 0)
