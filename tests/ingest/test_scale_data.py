"""The benchmark's scale data set is a faithful registry: each copy has its own projects and serials,
each vintage is issued once, and every copy's totals are exactly the real sample's."""

from sqlalchemy import func, select

from benchmarks.scale_data import build
from carbonscope.db.schema import credit_events, projects
from carbonscope.ingest import ingest


def test_every_copy_holds_the_samples_totals(engine, tmp_path):
    counts = build(tmp_path / "scale", projects=1_200, events=20_000)
    assert counts["copies"] == 2 and counts["event_rows"] >= 20_000 and counts["split_parts"] > 1
    ingest([tmp_path / "scale"], engine)  # copy 0 keeps the real IDs, copy 1 adds 100,000
    with engine.connect() as conn:
        tot = dict(conn.execute(select(projects.c.id, projects.c.issued)).all())
        ret = dict(conn.execute(select(projects.c.id, projects.c.retired_or_cancelled)).all())
        per_vintage = conn.execute(
            select(credit_events.c.project_id, credit_events.c.vintage, func.count())
            .where(credit_events.c.type == "issuance", credit_events.c.project_id.in_(["VCS2887", "VCS102887"]))
            .group_by(credit_events.c.project_id, credit_events.c.vintage)
        ).all()
    for pid in ("VCS2887", "ACR1129", "CAR1335", "ART102", "GS11603"):
        reg = pid.rstrip("0123456789")
        num = int(pid[len(reg) :])
        copy = f"{reg}{num + 100_000}"
        assert tot[copy] == tot[pid] and ret[copy] == ret[pid], pid
    assert tot["VCS2887"] == tot["VCS102887"] == 688_469  # the real sample's figure; each vintage issued once per copy
    assert len(tot) == counts["projects"]
    by = {(p, v): n for p, v, n in per_vintage}
    assert by[("VCS102887", 2021)] == by[("VCS2887", 2021)]
