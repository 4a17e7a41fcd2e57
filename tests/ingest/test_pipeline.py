import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from sqlalchemy import func, select

from carbonscope.db.schema import credit_events, projects
from carbonscope.errors import InputError, UnrecognisedFileError
from carbonscope.ingest import ingest, totals
from carbonscope.queries.check import findings
from carbonscope.queries.feed import changes_since
from carbonscope.queries.projects import project_detail
from carbonscope.queries.stats import by_registry
from tests.conftest import NATIVE, OFFSETSDB, REGISTRY_DATA, ROOT, VROD
from tests.ingest.helpers import DATA_TABLES, dump


def test_everything_ingests_and_every_vrod_project_is_present(engine):
    report = ingest([REGISTRY_DATA], engine)
    assert len(report.files) == 19 and all(not f.warnings for f in report.files)
    vrod_ids = set(pd.read_parquet(VROD, columns=["Project ID"])["Project ID"])
    with engine.connect() as conn:
        ids = set(conn.execute(select(projects.c.id)).scalars())
        found = findings(conn)
        stats = by_registry(conn)
    assert len(vrod_ids) == 10_975 and vrod_ids <= ids
    flagged = {f["project"] for f in found if f["kind"] == "retired_exceeds_issued"}
    vrod = pd.read_parquet(VROD)
    over = set(vrod.loc[vrod["Total Credits \nRetired"] > vrod["Total Credits \nIssued"], "Project ID"])
    assert len(over) == 15 and over <= flagged
    assert set(stats["registries"]) == {"VCS", "GS", "ACR", "CAR", "ART"}
    assert stats["registries"]["ART"]["events"] == 30


def test_ingesting_the_same_files_twice_changes_nothing(engine):
    first = ingest([NATIVE, VROD], engine)
    before = dump(engine)
    second = ingest([NATIVE, VROD], engine)
    assert second.unchanged and second.new_events == 0
    after = dump(engine)
    assert {t: after[t] for t in after if t not in ("snapshots", "source_files")} == {
        t: before[t] for t in before if t not in ("snapshots", "source_files")
    }
    # Read again on purpose: the same events get the same IDs, nothing is added or changed
    settled = dump(engine, DATA_TABLES, drop_run_columns=True)
    forced = ingest([NATIVE, VROD], engine, force=True)
    assert forced.new_events == 0 and forced.updated_events == 0 and forced.changes == 0
    assert dump(engine, DATA_TABLES, drop_run_columns=True) == settled
    assert (
        first.new_events == 1051
    )  # Verra: 88 issuance dates of vintages + 64 vintage remainders not covered by listed blocks


def test_event_ids_are_stable_across_databases(engine, tmp_path):
    ingest([NATIVE], engine)
    with engine.connect() as conn:
        ids = set(conn.execute(select(credit_events.c.id)).scalars())
    from carbonscope.db.engine import make_engine
    from carbonscope.db.migrate import upgrade

    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    ingest([NATIVE], other)
    with other.connect() as conn:
        assert set(conn.execute(select(credit_events.c.id)).scalars()) == ids
    assert len(ids) == 1051


def test_a_run_that_fails_in_the_middle_leaves_the_database_as_it_was(engine, monkeypatch):
    ingest([NATIVE], engine)
    before = dump(engine)

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(totals, "reconcile", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest([VROD, OFFSETSDB], engine)
    assert dump(engine) == before


def test_a_bad_file_late_in_a_run_rolls_back_the_good_ones(engine, tmp_path):
    before = dump(engine)
    folder = tmp_path / "mixed"
    shutil.copytree(NATIVE / "verra", folder / "a-verra")
    bad = folder / "z-bad" / "transactions.csv"
    bad.parent.mkdir()
    text = (NATIVE / "verra/transactions.csv").read_text().splitlines()
    bad.write_text("\n".join(text[:5] + [",".join(["x"] * 25)] + text[5:]) + "\n")
    with pytest.raises(InputError) as exc:
        ingest([folder], engine)
    assert str(bad) in str(exc.value) and "row 6: malformed CSV: Expected 17 fields in line 6, saw 25" in str(exc.value)
    assert dump(engine) == before


APP_NAME = "carbonscope-killed-ingest"


def _run_ingest_subprocess(db_url, folder):
    env = {**os.environ, "CARBONSCOPE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT), "PGAPPNAME": APP_NAME}
    return subprocess.Popen(
        [sys.executable, "-m", "carbonscope.cli", "ingest", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_killing_the_process_mid_ingest_leaves_the_database_as_it_was(engine, db_url, tmp_path):
    from benchmarks.scale_data import build

    ingest([NATIVE / "art-trees"], engine)
    before = dump(engine)
    build(tmp_path / "scale", projects=2_000, events=400_000)
    proc = _run_ingest_subprocess(db_url, tmp_path / "scale")
    deadline = time.monotonic() + 300
    while not _writing(engine):  # kill it once it has written inside its transaction
        assert proc.poll() is None, "the ingest ended before it wrote anything: " + proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the ingest did not start writing within 300 s"
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest finished before it could be killed; make the data set larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    engine.dispose()
    assert dump(engine) == before
    # and the database is healthy: the next run completes
    assert ingest([NATIVE / "gold-standard"], engine).new_events == 200


def _writing(engine) -> bool:
    """Whether the ingest process is inside its write transaction: on SQLite it holds the long
    writers' lock file; on PostgreSQL its session (named by PGAPPNAME) has a transaction ID."""
    if engine.dialect.name == "sqlite":
        import fcntl

        fd = os.open(engine.url.database + "-long", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
    with engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %(app)s AND backend_xid IS NOT NULL",
                {"app": APP_NAME},
            ).scalar_one()
        )


def test_change_feed_after_a_new_snapshot(engine, tmp_path):
    ingest([NATIVE / "american-carbon-registry"], engine)
    start = pd.Timestamp.now(tz="UTC").to_pydatetime()
    snap = tmp_path / "acr-next"
    shutil.copytree(NATIVE / "american-carbon-registry", snap)
    p = pd.read_csv(snap / "projects.csv", dtype=str, keep_default_na=False)
    assert p.loc[p["Project ID"] == "ACR586", "Voluntary Status"].item() == "Registered"
    p.loc[p["Project ID"] == "ACR586", "Voluntary Status"] = "Completed"
    p.to_csv(snap / "projects.csv", index=False)
    r = pd.read_csv(snap / "retirements.csv", dtype=str, keep_default_na=False)
    extra = r.iloc[[0]].copy()
    extra["Credit Serial Numbers"] = "ACR-FR-1129-2025-2917-40001 to 40100"
    extra["Quantity of Credits"] = "100"
    pd.concat([r, extra]).to_csv(snap / "retirements.csv", index=False)

    report = ingest([snap], engine)
    assert report.new_events == 1
    with engine.connect() as conn:
        feed = changes_since(conn, start)
        detail = project_detail(conn, "ACR1129")
    kinds = {(c["kind"], c["project_id"]) for c in feed}
    assert ("status_changed", "ACR586") in kinds
    assert ("new_events", "ACR1129") in kinds
    assert ("totals_changed", "ACR1129") in kinds
    status = next(c for c in feed if c["kind"] == "status_changed")
    assert status["detail"] == {"from": "registered", "to": "completed"}
    new = next(c for c in feed if c["kind"] == "new_events")
    assert new["detail"] == {"retirement": {"count": 1, "quantity": 100}}
    assert all(c["snapshot_id"] == report.snapshot_id for c in feed)
    assert detail["totals"]["retired"] == 100 + int(
        pd.read_csv(NATIVE / "american-carbon-registry/retirements.csv")
        .query("`Project ID` == 'ACR1129'")["Quantity of Credits"]
        .sum()
    )


def test_merge_precedence_and_provenance(engine):
    ingest([NATIVE / "art-trees", VROD, OFFSETSDB], engine)
    with engine.connect() as conn:
        art = project_detail(conn, "ART102")
        vrod_only = project_detail(conn, "ACR102")
    # Native export wins for the fields it has; VROD's hand-assigned type overrides the rules
    assert art["name"] == "Guyana" and art["country"] == "GY" and art["status"] == "registered"
    assert art["project_type"] == "Jurisdictional REDD+" and art["category"] == "forestry-land-use"
    name = art["provenance"]["name"]
    assert (
        name["source"] == "art-trees/projects" and name["file"].endswith("art-trees/projects.csv") and name["row"] == 16
    )
    assert art["provenance"]["type_override"]["source"] == "vrod/projects"
    assert art["sources"][0] == "art-trees/projects" and "offsetsdb/projects" in art["sources"]
    assert art["totals_source"] == "events"
    # A project only in bulk sources takes VROD's statement of its totals (retired includes cancelled)
    # VROD states retired and cancelled only as one sum: retired and cancelled are unknown (null)
    assert vrod_only["totals"] == {
        "issued": 7_984_006,
        "retired": None,
        "cancelled": None,
        "retired_or_cancelled": 17_666,
        "buffer": 0,
        "remaining": 7_966_340,
    }
    assert vrod_only["totals_source"] == "vrod" and vrod_only["provenance"]["name"]["source"] == "vrod/projects"
    assert vrod_only["ledger_complete"] is False
    issued_rule = vrod_only["totals_rules"]["issued"]
    assert (
        issued_rule["rule"] == "stated"
        and issued_rule["source"] == "vrod/projects"
        and issued_rule["value"] == 7_984_006
    )
    vrod = pd.read_parquet(VROD)
    at = int(vrod.index[vrod["Project ID"] == "ACR102"][0])  # rows are counted as in a spreadsheet: header row 1
    assert issued_rule["file"].endswith(".parquet") and issued_rule["row"] == at + 2
    assert vrod_only["series"]["issued_by_vintage"][2003] == int(vrod.loc[at, "2003"]) == 1_898_382


def _write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_bad_rows_are_skipped_counted_and_named(engine, tmp_path):
    lines = (NATIVE / "climate-action-reserve/retirements.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    rows[0] = rows[0].replace(",5000,10/27/2025,", ",-5000,10/27/2025,", 1)
    rows[1] = rows[1].replace(",7275,03/25/2026,", ",lots,03/25/2026,", 1)
    rows[2] = rows[2].replace(",100,02/12/2026,", ",100,02/30/2026,", 1)
    f = _write(tmp_path / "car" / "retirements.csv", "\n".join([header, *rows]) + "\n")
    report = ingest([f], engine)
    (fr,) = report.files
    assert fr.skipped_rows == 3 and fr.events == 97
    msgs = {(w.row, w.column): w.message for w in fr.warnings}
    assert "negative quantity -5000" in msgs[(2, "Quantity of Offset Credits")]
    assert "not a number: 'lots'" in msgs[(3, "Quantity of Offset Credits")]
    assert "not a valid date: '02/30/2026'" in msgs[(4, "Status Effective")]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(credit_events)).scalar_one() == 97
        warned = [x for x in findings(conn) if x["kind"] == "ingest_warning"]
    assert len(warned) == 3 and any(
        "retirements.csv, row 2, column 'Quantity of Offset Credits'" in w["detail"] for w in warned
    )


def test_strict_mode_refuses_the_file_and_writes_nothing(engine, tmp_path):
    before = dump(engine)
    text = (NATIVE / "art-trees/retirements.csv").read_text()
    assert text.count(",63392,") == 1
    f = _write(tmp_path / "art" / "retirements.csv", text.replace(",63392,", ",-63392,"))
    with pytest.raises(InputError, match=r"retirements.csv, row 3, column 'Quantity of Credits': negative quantity"):
        ingest([f], engine, strict=True)
    assert dump(engine) == before


def test_files_refused_before_any_write(engine, tmp_path):
    before = dump(engine)
    empty = _write(tmp_path / "e" / "empty.csv", "")
    with pytest.raises(InputError, match="empty.csv: the file is empty"):
        ingest([NATIVE / "verra", empty], engine)
    renamed = _write(
        tmp_path / "r" / "issuances.csv",
        (NATIVE / "art-trees/issuances.csv").read_text().replace("Credits Verified", "Verified"),
    )
    with pytest.raises(UnrecognisedFileError, match="issuances.csv"):
        ingest([renamed], engine)
    cut = tmp_path / "c" / "cut.parquet"
    cut.parent.mkdir()
    cut.write_bytes(VROD.read_bytes()[: VROD.stat().st_size // 2])
    with pytest.raises(InputError, match="cut.parquet: not a readable Parquet file"):
        ingest([cut], engine)
    assert dump(engine) == before


def test_windows_1252_export_is_read_with_a_warning(engine, tmp_path):
    text = (NATIVE / "verra/projects.csv").read_text(encoding="utf-8")
    f = _write(tmp_path / "v" / "projects.csv", text, encoding="cp1252")
    report = ingest([f], engine)
    assert "not UTF-8" in report.files[0].warnings[0].message
    with engine.connect() as conn:
        assert project_detail(conn, "VCS5955")["proponent"] == "Paraná Ambiental Gestão Global de Resíduos Ltda."


def test_cli_json_documents(db_url, tmp_path):
    env = {**os.environ, "CARBONSCOPE_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}

    def cli(*args):
        out = subprocess.run([sys.executable, "-m", "carbonscope.cli", *args], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout

    cli("ingest", str(NATIVE / "art-trees"), str(VROD))
    stats = json.loads(cli("stats", "--json"))
    assert stats["registries"]["ART"] == {
        "projects": 28,
        "events": 30,
        "issued": stats["registries"]["ART"]["issued"],
        "retired": stats["registries"]["ART"]["retired"],
        "cancelled": 36_100,
        "retired_or_cancelled": stats["registries"]["ART"]["retired"] + 36_100,
        "buffer": stats["registries"]["ART"]["buffer"],
        "remaining": stats["registries"]["ART"]["remaining"],
    }
    show = json.loads(cli("show", "ART102", "--json"))
    assert {"id", "registry", "name", "country", "status", "totals"} <= set(show)
    assert (
        show["id"] == "ART102"
        and show["country"] == "GY"
        and set(show["totals"]) == {"issued", "retired", "cancelled", "retired_or_cancelled", "buffer", "remaining"}
    )
    check = json.loads(cli("check", "--json"))
    kinds = {f["kind"] for f in check["findings"]}
    assert "retired_exceeds_issued" in kinds
    assert all(set(f) >= {"kind", "project", "detail"} for f in check["findings"])
    changes = json.loads(cli("changes", "--since", "2000-01-01", "--json"))
    assert any(c["kind"] == "new_project" and c["project_id"] == "ART102" for c in changes["changes"])
    # a VROD-only project in words: which source chose each total, and the unknown split
    text = cli("show", "ART103")
    assert (
        "retired not stated apart" in text
        and "as stated by vrod/projects (row" in text
        and "not the whole story" in text
    )
    assert "the event list is the whole story" in cli("show", "ART102")
    missing = subprocess.run(
        [sys.executable, "-m", "carbonscope.cli", "show", "ART999"], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 1 and "no project 'ART999'" in missing.stderr
