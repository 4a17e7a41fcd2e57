"""Alerts: watch, ingest a new snapshot, and find the notification, the mail and the feed entry."""

import shutil

import pandas as pd
from sqlalchemy import select

from carbonscope.db.schema import outbox
from carbonscope.jobs import ingest_files as ingest  # with the app's snapshot hooks (alerts)
from carbonscope.watch import feed, notify, watches
from tests.conftest import NATIVE, person


def test_watches_turn_a_new_snapshot_into_alerts(engine, people, tmp_path):
    ingest([NATIVE / "art-trees"], engine)
    ana, ben = people.ana, people.ben
    with engine.begin() as tx:
        cy = person(tx, "Cy")
        watches.add(tx, ana, "project", "art102")
        watches.add(tx, ben, "country", "Brazil")
        watches.add(tx, cy, "beneficiary", "Chanel")
    snap = tmp_path / "art-next"
    shutil.copytree(NATIVE / "art-trees", snap)
    r = pd.read_csv(snap / "retirements.csv", dtype=str, keep_default_na=False)
    guyana = (
        r[r["Program ID"] == "ART102"]
        .iloc[[0]]
        .assign(**{"Credit Serial Numbers": "ART-GY-102-2019-3-2600001 to 2600500", "Quantity of Credits": "500"})
    )
    chanel = (
        r[r["Program ID"] == "ART130"]
        .iloc[[0]]
        .assign(**{"Credit Serial Numbers": "FCPF-CI-130-2023-20-50001 to 50100", "Quantity of Credits": "100"})
    )
    pd.concat([r, guyana, chanel]).to_csv(snap / "retirements.csv", index=False)
    p = pd.read_csv(snap / "projects.csv", dtype=str, keep_default_na=False)
    p.loc[p["Program ID"] == "ART105", "Status"] = "Registered"  # Amapá, Brazil: listed -> registered
    p.to_csv(snap / "projects.csv", index=False)

    report = ingest([snap], engine)
    assert report.notifications >= 3
    with engine.connect() as conn:
        a = notify.list_for(conn, ana["id"])
        b = notify.list_for(conn, ben["id"])
        c = notify.list_for(conn, cy["id"])
        mails = conn.execute(select(outbox.c.to_addr, outbox.c.subject, outbox.c.body)).all()
        atom = feed.atom(conn, ana["feed_token"], "https://carbonscope.example")
    assert any(n["title"] == "ART102 Guyana: 1 retirement (500 credits)" for n in a)
    assert any("ART102 Guyana: retired" in n["title"] for n in a)  # totals changed too
    assert [n["title"] for n in b] == ["ART105 Amapá: status listed → registered"]
    assert [n["title"] for n in c] == [
        "ART130 Cote d'Ivoire Tai National Park Area Emission Reductions Program: 100 credits retired for Chanel"
    ]
    assert {m.to_addr for m in mails} == {"ana@example.org", "ben@example.org", "cy@example.org"}
    assert all(m.subject.startswith("CarbonScope: ") and "/account/notifications" in m.body for m in mails)
    assert (
        "<title>ART102 Guyana: 1 retirement (500 credits)</title>" in atom
        and 'href="https://carbonscope.example/projects/ART102"' in atom
    )
    # nobody watching: nothing; the same files again: nothing new
    assert ingest([snap], engine).notifications == 0


def test_a_retraction_reaches_the_projects_watchers(engine, tmp_path):
    import os
    import time

    acr = NATIVE / "american-carbon-registry"
    ingest([acr / "retirements.csv"], engine)
    with engine.begin() as tx:
        dee = person(tx, "Dee")
        watches.add(tx, dee, "project", "ACR1129")
    lines = (acr / "retirements.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    newer = tmp_path / "new" / "retirements.csv"
    newer.parent.mkdir()
    newer.write_text("".join(x for x in lines if ",ACR1129," not in x), encoding="utf-8")
    os.utime(newer, (time.time() + 60, time.time() + 60))
    ingest([newer], engine)
    with engine.connect() as conn:
        titles = [n["title"] for n in notify.list_for(conn, dee["id"])]
    assert any("3 event(s) (28,993 credits) are no longer in the registry's newer export" in t for t in titles)
    assert any(t.startswith("ACR1129") and "retired 28,993 → 0" in t for t in titles)
