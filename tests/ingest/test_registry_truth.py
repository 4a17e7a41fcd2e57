"""Numbers that hold where sources meet: precedence of totals, retractions, corrections, delisting,
field formats and provenance, each on the real files in ../shared/data/registries."""

from __future__ import annotations

import os
import time

import pandas as pd
from sqlalchemy import select

from carbonscope.db.schema import changes, credit_events, event_history, projects, source_files, vintage_totals
from carbonscope.ingest import ingest
from carbonscope.queries.check import findings
from carbonscope.queries.projects import project_detail
from tests.conftest import NATIVE, OFFSETSDB, VROD

ACR = NATIVE / "american-carbon-registry"
CAR = NATIVE / "climate-action-reserve"


def _newer_copy(tmp_path, src, name, edit):
    """A newer export of the same kind: the real file with ``edit`` applied to its lines, written now."""
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    out = tmp_path / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(edit(lines)), encoding="utf-8")
    future = time.time() + 60  # its modification time is its export date (no date in the name)
    os.utime(out, (future, future))
    return out


def _totals(engine, pid):
    with engine.connect() as conn:
        return project_detail(conn, pid)


def test_a_partial_ledger_never_replaces_vrods_complete_totals(engine):
    # ACR212 appears in the ACR sample only through its retirements
    ingest([ACR, VROD], engine)
    d = _totals(engine, "ACR212")
    assert d["totals"]["issued"] == 1_387_888  # VROD's statement, not the ledger's 0
    rule = d["totals_rules"]["issued"]
    assert (
        rule["rule"] == "stated"
        and rule["source"] == "vrod/projects"
        and rule["ledger"] == 0
        and isinstance(rule["row"], int)
    )
    assert d["ledger_complete"] is False
    retired_in_file = int(
        pd.read_csv(ACR / "retirements.csv", thousands=",")
        .query("`Project ID` == 'ACR212'")["Quantity of Credits"]
        .sum()
    )
    assert d["totals_rules"]["retired_or_cancelled"]["ledger"] == retired_in_file == 6_645


def test_check_lists_only_vrods_fifteen_after_every_source(engine):
    ingest([NATIVE, VROD, OFFSETSDB], engine)
    with engine.connect() as conn:
        found = findings(conn)
        negative = conn.execute(
            select(projects.c.id).where(
                projects.c.issued == 0, projects.c.retired_or_cancelled > 0, projects.c.ledger_complete.is_(True)
            )
        ).all()
    vrod = pd.read_parquet(VROD)
    over = set(vrod.loc[vrod["Total Credits \nRetired"] > vrod["Total Credits \nIssued"], "Project ID"])
    assert len(over) == 15
    assert {f["project"] for f in found if f["kind"] == "retired_exceeds_issued"} == over
    # Ledgers that retire credits they never issued are named as incomplete, not as registry findings
    incomplete = [f for f in found if f["kind"] == "incomplete_ledger"]
    assert incomplete and all("lacks issuances" in f["detail"] for f in incomplete)
    assert negative == []


def test_verra_vintage_total_is_counted_once(engine):
    ingest([NATIVE / "verra"], engine)
    d = _totals(engine, "VCS2887")
    assert d["totals"]["issued"] == 688_469  # 352,001 (2019) + 336,468 (2021), not 1,024,937
    with engine.connect() as conn:
        v = dict(
            conn.execute(
                select(vintage_totals.c.vintage, vintage_totals.c.issued).where(
                    vintage_totals.c.project_id == "VCS2887"
                )
            ).all()
        )
    assert v == {2019: 352_001, 2021: 336_468}


def test_rows_missing_from_a_newer_export_are_retracted_and_kept_in_history(engine, tmp_path):
    ingest([ACR / "retirements.csv"], engine)
    assert _totals(engine, "ACR1129")["totals"]["retired"] == 28_993
    rows = [
        i
        for i, line in enumerate((ACR / "retirements.csv").read_text(encoding="utf-8").splitlines())
        if ",ACR1129," in line
    ]
    assert len(rows) == 3
    drop = set(rows[:2])
    kept = (
        pd.read_csv(ACR / "retirements.csv", thousands=",")
        .query("`Project ID` == 'ACR1129'")["Quantity of Credits"]
        .tolist()[2]
    )
    newer = _newer_copy(
        tmp_path,
        ACR / "retirements.csv",
        "new/retirements.csv",
        lambda ls: [x for i, x in enumerate(ls) if i not in drop],
    )
    report = ingest([newer], engine)
    assert report.retracted_events == 2 and report.corrected_events == 0
    d = _totals(engine, "ACR1129")
    assert d["totals"]["retired"] == kept == 6_204
    with engine.connect() as conn:
        hist = conn.execute(
            select(
                event_history.c.project_id,
                event_history.c.retraction,
                event_history.c.retracted_snapshot,
                event_history.c.quantity,
            )
        ).all()
        feed = conn.execute(
            select(changes.c.kind, changes.c.detail).where(
                changes.c.project_id == "ACR1129", changes.c.snapshot_id == report.snapshot_id
            )
        ).all()
    assert sum(h[3] for h in hist) == 28_993 - 6_204
    assert {h[1] for h in hist} == {"retracted"} and {h[2] for h in hist} == {report.snapshot_id} and len(hist) == 2
    kinds = {k: det for k, det in feed}
    assert kinds["event_retracted"]["count"] == 2 and kinds["event_retracted"]["quantity"] == 28_993 - 6_204
    assert kinds["totals_changed"]["retired"] == [28_993, 6_204]
    # The rows reappear in a later export: they return to the ledger
    back = _newer_copy(tmp_path, ACR / "retirements.csv", "back/retirements.csv", lambda ls: ls)
    os.utime(back, (time.time() + 120, time.time() + 120))
    ingest([back], engine, force=True)
    assert _totals(engine, "ACR1129")["totals"]["retired"] == 28_993
    with engine.connect() as conn:
        assert conn.execute(select(event_history.c.id)).all() == []


def test_a_corrected_block_supersedes_the_old_event(engine, tmp_path):
    ingest([CAR / "retirements.csv"], engine)
    before = _totals(engine, "CAR1335")["totals"]["retired"]

    def correct(lines):
        out = []
        for x in lines:
            if "CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000,5000," in x:
                x = x.replace(
                    "CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000,5000,",
                    "CAR-1-US-1335-31-983-KS-2025-9205-1 to 4000,4000,",
                )
            out.append(x)
        return out

    newer = _newer_copy(tmp_path, CAR / "retirements.csv", "new/retirements.csv", correct)
    assert newer.read_text() != (CAR / "retirements.csv").read_text()
    report = ingest([newer], engine)
    assert report.corrected_events == 1 and report.retracted_events == 0
    assert _totals(engine, "CAR1335")["totals"]["retired"] == before - 1_000  # not booked as a second event
    with engine.connect() as conn:
        old = conn.execute(
            select(event_history.c.quantity, event_history.c.retraction, event_history.c.superseded_by)
        ).one()
        new_id = conn.execute(
            select(credit_events.c.id).where(credit_events.c.project_id == "CAR1335", credit_events.c.quantity == 4_000)
        ).scalar_one()
        kinds = [
            k
            for (k,) in conn.execute(
                select(changes.c.kind).where(
                    changes.c.snapshot_id == report.snapshot_id, changes.c.project_id == "CAR1335"
                )
            )
        ]
    assert old == (5_000, "corrected", new_id)
    assert "event_corrected" in kinds


def test_a_project_missing_from_a_newer_projects_export_is_delisted(engine, tmp_path):
    ingest([CAR / "projects.csv"], engine)
    assert _totals(engine, "CAR1957")["listed"] is True
    newer = _newer_copy(
        tmp_path, CAR / "projects.csv", "new/projects.csv", lambda ls: [x for x in ls if not x.startswith("CAR1957,")]
    )
    report = ingest([newer], engine)
    assert report.delisted_records == 1
    d = _totals(engine, "CAR1957")
    assert d["listed"] is False and d["name"]  # kept, with what the last export said
    assert d["provenance"]["name"]["delisted_snapshot"] == report.snapshot_id
    with engine.connect() as conn:
        kinds = [
            k
            for (k,) in conn.execute(
                select(changes.c.kind).where(
                    changes.c.project_id == "CAR1957", changes.c.snapshot_id == report.snapshot_id
                )
            )
        ]
    assert kinds == ["project_delisted"]


def test_an_older_export_after_a_newer_one_does_not_roll_back(engine, tmp_path):
    ingest([ACR / "retirements.csv"], engine)
    newer = _newer_copy(
        tmp_path, ACR / "retirements.csv", "new/retirements.csv", lambda ls: [x for x in ls if ",ACR1129," not in x]
    )
    ingest([newer], engine)
    assert _totals(engine, "ACR1129")["totals"]["retired"] == 0
    report = ingest([ACR / "retirements.csv"], engine, force=True)  # read again: modified earlier, an older export
    assert [f.status for f in report.files] == ["older"]
    assert _totals(engine, "ACR1129")["totals"]["retired"] == 0
    with engine.connect() as conn:
        assert (
            conn.execute(select(source_files.c.status).order_by(source_files.c.id.desc()).limit(1)).scalar_one()
            == "older"
        )


def test_a_partial_file_retracts_nothing(engine, tmp_path):
    ingest([ACR / "retirements.csv"], engine)
    part = _newer_copy(tmp_path, ACR / "retirements.csv", "part/retirements.csv", lambda ls: ls[:5])
    report = ingest([part], engine, partial=True)
    assert report.retracted_events == 0
    assert _totals(engine, "ACR1129")["totals"]["retired"] == 28_993


def test_export_dates_come_from_the_file_name_where_it_says_them(engine):
    ingest([VROD, OFFSETSDB], engine)
    with engine.connect() as conn:
        rows = {
            s: (e, b)
            for s, e, b in conn.execute(
                select(source_files.c.source, source_files.c.exported_at, source_files.c.date_basis)
            )
        }
    assert rows["offsetsdb"][0].date().isoformat() == "2025-11-05" and rows["offsetsdb"][1] == "file name"
    assert rows["vrod"][0].date().isoformat() == "2025-12-01" and rows["vrod"][1] == "file name (month)"


def test_vrod_compliance_words_status_and_certifications(engine):
    ingest([VROD], engine)
    with engine.connect() as conn:
        acr892 = project_detail(conn, "ACR892")
        acr1140 = project_detail(conn, "ACR1140")
        counts = pd.DataFrame(
            conn.execute(select(projects.c.compliance_program, projects.c.is_compliance)).all(),
            columns=["program", "flag"],
        )
    assert acr892["is_compliance"] is True and acr892["compliance_program"] == "WA Compliance"
    assert acr1140["status"] == "listed" and acr1140["status_raw"] == "Listed - Active Ecology Project"
    by = counts.groupby("program", dropna=False)["flag"].agg(["size", "all"])
    assert by.loc["ARB Early Action"].tolist() == [113, True] and by.loc["WA Compliance"].tolist() == [11, True]


def test_methodology_sdg_and_status_formats(engine):
    ingest([CAR / "projects.csv", ACR / "projects.csv", OFFSETSDB], engine)
    with engine.connect() as conn:
        car1513 = project_detail(conn, "CAR1513")
        acr1113 = project_detail(conn, "ACR1113")
        hyphen = conn.execute(
            select(projects.c.id, projects.c.methodologies).where(projects.c.methodology_raw.like("%AMS-II-G%"))
        ).all()
    assert car1513["sdgs"] == [2, 3, 6, 8, 9, 12, 13, 14, 15]
    assert acr1113["status"] == "listed"
    assert hyphen and all("AMS-II.G." in codes for _, codes in hyphen)


def test_a_flag_cites_every_row_that_gave_it(engine):
    ingest([NATIVE / "art-trees"], engine)
    d = _totals(engine, "ART102")
    prov = d["provenance"]["corsia"]
    assert d["corsia"] is True
    # issuances rows 5, 7-12 say Yes; row 3 (the project's latest row) says No and is not cited
    assert prov["source"] == "art-trees/issuances" and prov["rows"] == [5, 7, 8, 9, 10, 11, 12] and prov["row"] == 5
    # and per vintage: the vintage whose row says No is not eligible
    by_vintage = {v["vintage"]: v["corsia"] for v in d["vintages"]}
    assert True in by_vintage.values()


def test_offsetsdb_first_dates_stand_in_where_there_are_no_events(engine):
    ingest([OFFSETSDB], engine)
    raw = pd.read_parquet(OFFSETSDB).set_index("project_id")
    with engine.connect() as conn:
        got = dict(
            conn.execute(
                select(projects.c.id, projects.c.first_issuance_at).where(projects.c.first_issuance_at.is_not(None))
            ).all()
        )
    assert len(got) > 1000
    pid = "ACR1000"
    assert got[pid].isoformat() == pd.Timestamp(raw.loc[pid, "first_issuance_at"]).date().isoformat() == "2025-05-27"
