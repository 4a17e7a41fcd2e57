"""Each parser on the real registry files, with values read off the raw rows by hand."""

from datetime import date

import pandas as pd
import pytest

from carbonscope.registry.detect import detect
from carbonscope.registry.reading import Issues
from tests.conftest import NATIVE, OFFSETSDB, VROD


def parse(path):
    parser = detect(path)
    issues = Issues(str(path))
    batches = list(parser.parse(path, issues))
    cat = lambda attr: pd.concat([getattr(b, attr) for b in batches if getattr(b, attr) is not None], ignore_index=True)  # noqa: E731
    return parser, issues, batches, cat


def event(events, **where):
    sel = events
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, f"{len(sel)} events match {where}"
    return sel.iloc[0]


@pytest.mark.parametrize(
    "path,key",
    [
        (NATIVE / "verra/projects.csv", "verra/projects"),
        (NATIVE / "verra/transactions.csv", "verra/transactions"),
        (NATIVE / "gold-standard/projects.csv", "gold-standard/projects"),
        (NATIVE / "gold-standard/issuances.csv", "gold-standard/issuances"),
        (NATIVE / "gold-standard/retirements.csv", "gold-standard/retirements"),
        (NATIVE / "american-carbon-registry/projects.csv", "american-carbon-registry/projects"),
        (NATIVE / "american-carbon-registry/issuances.csv", "american-carbon-registry/issuances"),
        (NATIVE / "american-carbon-registry/retirements.csv", "american-carbon-registry/retirements"),
        (NATIVE / "american-carbon-registry/cancellations.csv", "american-carbon-registry/cancellations"),
        (NATIVE / "climate-action-reserve/projects.csv", "climate-action-reserve/projects"),
        (NATIVE / "climate-action-reserve/issuances.csv", "climate-action-reserve/issuances"),
        (NATIVE / "climate-action-reserve/retirements.csv", "climate-action-reserve/retirements"),
        (NATIVE / "climate-action-reserve/cancellations.csv", "climate-action-reserve/cancellations"),
        (NATIVE / "art-trees/projects.csv", "art-trees/projects"),
        (NATIVE / "art-trees/issuances.csv", "art-trees/issuances"),
        (NATIVE / "art-trees/retirements.csv", "art-trees/retirements"),
        (NATIVE / "art-trees/cancellations.csv", "art-trees/cancellations"),
        (VROD, "vrod/projects"),
        (OFFSETSDB, "offsetsdb/projects"),
    ],
)
def test_every_real_file_is_recognised_and_parses_without_warnings(path, key):
    parser, issues, batches, _ = parse(path)
    assert parser.key == key
    assert issues.items == []
    assert batches


def test_verra_transactions_issuance_batches_and_retired_blocks():
    _, _, _, cat = parse(NATIVE / "verra/transactions.csv")
    ev = cat("events")
    iss_all = ev[ev["type"] == "issuance"]
    # One issuance per (project, vintage period, issuance date) of its listed blocks: 88 in the sample,
    # plus, for the 64 vintages whose listed blocks fall short of Total Vintage Quantity, the rest
    assert iss_all["note"].isna().sum() == 88 and iss_all["note"].notna().sum() == 64
    # 100 rows carry a retirement/cancellation date
    assert ev["type"].isin(["retirement", "cancellation"]).sum() == 100
    v1340 = iss_all[iss_all["project_id"] == "VCS1340"]
    assert v1340["quantity"].sum() == 1_454_054 and set(v1340["event_date"].dt.date) == {date(2026, 4, 3)}
    iss = v1340.iloc[0]
    assert (
        iss["vintage"] == 2020
        and iss["vintage_start"].date() == date(2020, 1, 1)
        and iss["vintage_end"].date() == date(2020, 12, 31)
    )
    # VCS2887's 2021 vintage (336,468) was issued on two dates: counted once, not once per date
    v2887 = iss_all[iss_all["project_id"] == "VCS2887"]
    assert v2887["quantity"].sum() == 352_001 + 336_468 == 688_469
    v2021 = v2887[v2887["vintage"] == 2021].sort_values(["event_date", "quantity"])
    assert [(d.isoformat(), int(q)) for d, q in zip(v2021["event_date"].dt.date, v2021["quantity"])] == [
        ("2026-03-19", 1_840),
        ("2026-03-19", 336_468 - 1_840 - 37_523),
        ("2026-03-30", 37_523),
    ]
    ret = event(ev, project_id="VCS1340", type="retirement")
    assert ret["quantity"] == 425 and ret["serial_start"] == 941467007 and ret["serial_end"] == 941467431
    assert ret["event_date"].date() == date(2026, 4, 10)
    lind = event(ev, project_id="VCS3005", type="retirement", quantity=28571)
    assert (
        lind["beneficiary"] == "Lindblad Expeditions Family of Companies" and lind["reason"] == "Environmental Benefit"
    )


def test_verra_projects_fields():
    _, _, _, cat = parse(NATIVE / "verra/projects.csv")
    p = cat("projects").set_index("id").loc["VCS5957"]
    assert p["name"] == "KENYA HIGHLANDS GROUPED CARBON PROJECT"
    assert p["estimated_annual"] == 191_805 and p["type_raw"] == "ALM" and p["status_raw"] == "Under development"
    assert p["crediting_start"].date() == date(2024, 4, 1) and p["crediting_end"].date() == date(2044, 3, 31)
    assert p["registry_url"] == "https://registry.verra.org/app/projectDetail/VCS/5957"


def test_gold_standard_issuance_serial_and_cancellations_without_date():
    _, _, _, cat = parse(NATIVE / "gold-standard/issuances.csv")
    ev = cat("events")
    e = event(ev, project_id="GS11236")
    assert (e["quantity"], e["serial_start"], e["serial_end"], e["vintage"]) == (19149, 1, 19149, 2024)
    assert e["event_date"].date() == date(2026, 4, 13) and e["vintage_end"].date() == date(2024, 12, 8)
    assert cat("projects").set_index("id").loc["GS11236", "poa_id"] == "GS11191"

    _, _, _, cat = parse(NATIVE / "gold-standard/retirements.csv")
    ev = cat("events")
    canc = ev[ev["type"] == "cancellation"]
    assert len(canc) == 6 and canc["event_date"].isna().all()
    assert sorted(canc.loc[canc["project_id"] == "GS12875", "quantity"]) == [41158, 128964, 250382]
    hilti = ev[(ev["project_id"] == "GS11603") & (ev["vintage"] == 2025)].iloc[0]
    assert (hilti["quantity"], hilti["serial_start"], hilti["serial_end"], hilti["beneficiary"]) == (
        5354,
        110,
        5463,
        "Hilti Corporation",
    )


def test_acr_issuance_buffers_and_conversions():
    _, _, _, cat = parse(NATIVE / "american-carbon-registry/issuances.csv")
    ev = cat("events")
    assert event(ev, project_id="ACR279", type="issuance")["quantity"] == 19440
    buf = event(ev, project_id="ACR279", type="buffer_deposit")
    assert buf["quantity"] == 3733 and buf["note"] == "issued to buffer pool"
    moved = event(ev, project_id="ACR865", type="buffer_deposit")
    assert moved["quantity"] == 21049 and moved["note"] == "transferred to buffer pool"

    _, _, _, cat = parse(NATIVE / "american-carbon-registry/cancellations.csv")
    ev = cat("events")
    conv = event(ev, project_id="ACR1185")
    assert (
        conv["type"] == "conversion"
        and conv["quantity"] == 85847
        and conv["reason"] == "Convert to Ecology offset credits"
    )
    assert conv["event_date"].date() == date(2026, 1, 22) and (conv["serial_start"], conv["serial_end"]) == (1, 85847)
    assert set(ev["type"]) == {"conversion", "cancellation"}


def test_car_projects_and_cancellation_reasons():
    _, _, _, cat = parse(NATIVE / "climate-action-reserve/projects.csv")
    p = cat("projects").set_index("id").loc["CAR1458"]
    assert (
        p["status_raw"] == "Completed"
        and p["listed_at"].date() == date(2020, 11, 20)
        and p["registered_at"].date() == date(2021, 1, 28)
    )
    st = cat("stated").set_index("project_id")
    assert st.loc["CAR1458", "value"] == 84267

    _, _, _, cat = parse(NATIVE / "climate-action-reserve/cancellations.csv")
    ev = cat("events")
    e = event(ev, project_id="CAR2056")
    assert (e["type"], e["quantity"], e["reason"]) == ("conversion", 260294, "ARB")


def test_art_issuance_excludes_buffer_and_cancellations():
    _, _, _, cat = parse(NATIVE / "art-trees/issuances.csv")
    ev = cat("events")
    e = event(ev, project_id="ART102", type="issuance", vintage=2023)
    assert e["quantity"] == 9_085_923 and e["event_date"].date() == date(2025, 12, 21)
    assert event(ev, project_id="ART102", type="buffer_deposit", vintage=2023)["quantity"] == 535_461

    _, _, _, cat = parse(NATIVE / "art-trees/cancellations.csv")
    ev = cat("events")
    assert ev["type"].eq("cancellation").all() and ev["quantity"].sum() == 36_100
    assert ev["note"].tolist()[0] == "ALL NIPPON AIRWAYS CO., LTD, PHASE 1"


def test_vrod_projects_totals_and_series():
    _, _, _, cat = parse(VROD)
    projects = cat("projects")
    assert len(projects) == 10_975
    assert projects["registry"].value_counts().to_dict() == {
        "VCS": 4830,
        "GS": 3982,
        "CAR": 1182,
        "ACR": 954,
        "ART": 27,
    }
    acr102 = projects.set_index("id").loc["ACR102"]
    assert acr102["type_override"] == "SF6 Replacement" and acr102["country_raw"] == "United States"
    st = cat("stated")
    s = st[st["project_id"] == "ACR102"].set_index("metric")["value"]
    assert (s["issued"], s["retired_cancelled"], s["remaining"]) == (7_984_006, 17_666, 7_966_340)
    series = cat("series")
    art = series[(series["project_id"] == "ART102") & (series["series"] == "issued_by_vintage")].set_index("year")[
        "quantity"
    ]
    assert (art[2021], art[2022], art[2023]) == (7_144_362, 8_732_929, 9_085_923)


def test_offsetsdb_maps_gld_to_gs():
    _, _, _, cat = parse(OFFSETSDB)
    projects = cat("projects")
    assert len(projects) == 10_836
    assert not projects["id"].str.startswith("GLD").any()
    assert (projects["id"].str.startswith("GS")).sum() == 3927
    vcs5763 = projects.set_index("id").loc["VCS5763"]
    assert vcs5763["methodology_raw"] == "VM0007; VM0048" and vcs5763["type_override"] == "REDD+"
