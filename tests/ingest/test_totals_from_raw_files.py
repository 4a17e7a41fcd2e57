"""The totals of every project in the native samples equal sums a person computes from the raw files.

The expected sums below are computed here with plain pandas on the raw CSVs, independently of the
parsers: what a person would do with a spreadsheet.
"""

import pandas as pd
from sqlalchemy import select

from carbonscope.db.schema import projects
from carbonscope.ingest import ingest
from tests.conftest import NATIVE


def _csv(path):
    return pd.read_csv(NATIVE / path, thousands=",")


def raw_totals() -> pd.DataFrame:
    parts = []

    def add(ids, metric, qty):
        parts.append(
            pd.DataFrame(
                {"id": ids.astype(str).to_numpy(), "metric": metric, "q": qty.fillna(0).astype("int64").to_numpy()}
            )
        )

    # Verra: "Total Vintage Quantity" is a vintage's total over all its issuance dates, so a vintage
    # was issued the larger of that total and its listed blocks; blocks with a retirement/cancellation date are retired.
    t = _csv("verra/transactions.csv")
    t["pid"] = "VCS" + t["ID"].astype(str)
    vint = t.groupby(["pid", "Vintage Start", "Vintage End"], as_index=False).agg(
        total=("Total Vintage Quantity", "max"), blocks=("Quantity Issued", "sum")
    )
    add(vint["pid"], "issued", vint[["total", "blocks"]].max(axis=1))
    ret = t[t["Retirement/Cancellation Date"].notna()]
    add(ret["pid"], "retired", ret["Quantity Issued"])

    gi, gr = _csv("gold-standard/issuances.csv"), _csv("gold-standard/retirements.csv")
    add("GS" + gi["GSID"].astype(str), "issued", gi["Quantity"])
    r = gr[gr["Credit Status"] == "Retired"]
    add("GS" + r["GSID"].astype(str), "retired", r["Quantity"])
    c = gr[gr["Credit Status"] == "Canceled"]
    add("GS" + c["GSID"].astype(str), "cancelled", c["Quantity"])

    ai = _csv("american-carbon-registry/issuances.csv")
    add(ai["Project ID"], "issued", ai["Total Credits Issued"])
    add(ai["Project ID"], "buffer", ai["Credits Issued to Buffer Pool"] + ai["Credits Transferred to Buffer Pool"])
    add(
        _csv("american-carbon-registry/retirements.csv")["Project ID"],
        "retired",
        _csv("american-carbon-registry/retirements.csv")["Quantity of Credits"],
    )
    ac = _csv("american-carbon-registry/cancellations.csv")
    add(ac["Project ID"], "cancelled", ac["Quantity of Credits"])

    ci = _csv("climate-action-reserve/issuances.csv")
    add(ci["Project ID"], "issued", ci["Total Offset Credits Issued"])
    add(
        ci["Project ID"],
        "buffer",
        ci["Offset Credits Currently in Reserve Buffer Pool"].fillna(0)
        + ci["Offset Credits Intended for Compliance Buffer Pool"].fillna(0),
    )
    cr, cc = _csv("climate-action-reserve/retirements.csv"), _csv("climate-action-reserve/cancellations.csv")
    add(cr["Project ID"], "retired", cr["Quantity of Offset Credits"])
    add(cc["Project ID"], "cancelled", cc["Quantity of Offset Credits"])

    ti = _csv("art-trees/issuances.csv")
    add(ti["Program ID"], "issued", ti["Credits Verified"])
    add(ti["Program ID"], "buffer", ti["Credits Deposited in Buffer"])
    tr, tc = _csv("art-trees/retirements.csv"), _csv("art-trees/cancellations.csv")
    add(tr["Program ID"], "retired", tr["Quantity of Credits"])
    add(tc["Program ID"], "cancelled", tc["Quantity of Credits"])

    long = pd.concat(parts)
    wide = long.pivot_table(index="id", columns="metric", values="q", aggfunc="sum", fill_value=0)
    wide["remaining"] = wide["issued"] - wide["retired"] - wide["cancelled"]
    return wide.astype("int64")


def test_every_native_project_total_equals_the_raw_file_sums(engine):
    ingest([NATIVE], engine)
    expected = raw_totals()
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                projects.c.id,
                projects.c.issued,
                projects.c.retired,
                projects.c.cancelled,
                projects.c.buffer,
                projects.c.remaining,
                projects.c.retired_or_cancelled,
                projects.c.totals_rules,
            )
        ).all()
    got = pd.DataFrame(
        rows, columns=["id", "issued", "retired", "cancelled", "buffer", "remaining", "roc", "rules"]
    ).set_index("id")
    assert len(expected) == 400  # projects with at least one event in the five registries' samples
    # The ledger of every such project equals the raw sums, whichever rule then chose its totals
    ledger = got.loc[got["rules"].map(lambda r: r["issued"]["rule"] == "ledger" or "ledger" in r["issued"])]
    assert set(ledger.index) == set(expected.index)

    def ledger_value(rules, metric):
        r = rules[metric]
        return r["value"] if r["rule"] == "ledger" else r["ledger"]

    for metric, raw in (
        ("issued", expected["issued"]),
        ("retired_or_cancelled", expected["retired"] + expected["cancelled"]),
        ("buffer", expected["buffer"]),
    ):
        led = ledger["rules"].map(lambda r, metric=metric: ledger_value(r, metric))
        mismatch = (led - raw.reindex(led.index)).abs()
        assert mismatch.max() == 0, f"{metric}: {mismatch[mismatch > 0].head().to_dict()}"
    # Where the ledger chose every total, they are exactly the raw sums
    full = ledger[ledger["rules"].map(lambda r: all(v["rule"] == "ledger" for v in r.values()))]
    assert len(full) > 300
    for metric in ("issued", "retired", "cancelled", "buffer", "remaining"):
        mismatch = (full[metric].astype("int64") - expected[metric].reindex(full.index)).abs()
        assert mismatch.max() == 0, f"{metric}: {mismatch[mismatch > 0].head().to_dict()}"
    # Where the registry's own projects export states more credits than the sample's ledger holds,
    # that statement is the issued total (a partial ledger never replaces it), and the rule says so
    stated = ledger[ledger["rules"].map(lambda r: r["issued"]["rule"] == "stated")]
    assert len(stated) and (stated["issued"] > expected["issued"].reindex(stated.index)).all()
    assert set(stated["rules"].map(lambda r: r["issued"]["source"])) <= {
        "american-carbon-registry/projects",
        "climate-action-reserve/projects",
    }
    # Spot values a person can read off the files: ART102's 2021-2023 ledger in the sample
    assert got.loc["ART102", "issued"] == expected.loc["ART102", "issued"] and got.loc["ART102", "cancelled"] == 36_100
