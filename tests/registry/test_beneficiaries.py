"""Beneficiary harmonisation on the real retirement rows of the native samples."""

from carbonscope.ingest import ingest
from carbonscope.queries.analytics import beneficiary_groups, top_beneficiaries
from carbonscope.queries.check import findings
from carbonscope.registry.beneficiaries import harmonise, normalise_key
from tests.conftest import NATIVE


def test_rules_and_normalisation():
    assert harmonise("Not Disclosed").kind == "undisclosed" and harmonise("Not Disclosed").key is None
    assert harmonise("No owner - contributing towards global emissions reductions").key is None
    assert harmonise("Emergent retiring on behalf of Chanel").name == "Chanel"
    assert harmonise("AWS").name == "Amazon"
    assert harmonise("Wildfang Co.").key == harmonise("Wildfang Co").key == "wildfang"
    assert harmonise("RIP City Management").key == harmonise("Rip City Management").key
    assert normalise_key("Eni Plenitude spa Società Benefit") == "eni plenitude"
    assert harmonise("x" * 200).kind == "not_a_name"


def test_top_beneficiaries_group_spellings_and_leave_out_undisclosed(engine):
    ingest([NATIVE], engine)
    with engine.connect() as conn:
        groups, cover = beneficiary_groups(conn)
        top = top_beneficiaries(conn, 200)
        found = [f for f in findings(conn) if f["kind"] == "beneficiaries"]
    names = {g["beneficiary"] for g in top}
    assert "Not Disclosed" not in names and not any(n.startswith("No owner") for n in names)
    wildfang = next(g for g in groups if g["beneficiary"].startswith("Wildfang"))
    assert wildfang["spellings"] == ["Wildfang Co", "Wildfang Co."] and wildfang["quantity"] == 873 + 799
    rip = next(g for g in groups if g["beneficiary"].lower() == "rip city management")
    assert rip["quantity"] == 145 + 960
    assert cover["undisclosed_quantity"] >= 170_221 + 29_870  # "Not Disclosed" and "No owner ..." rows
    assert 0 < cover["named_share"] < 1 and cover["spellings"] > cover["groups"]
    assert len(found) == 1 and "retired credits name a beneficiary" in found[0]["detail"]
