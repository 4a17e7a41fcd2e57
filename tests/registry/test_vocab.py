import pytest

from carbonscope.registry import vocab
from carbonscope.registry.countries import country_name, to_alpha2


@pytest.mark.parametrize(
    "text,codes",
    [
        ("AMS-III.D.; AMS-III.AO.", ("AMS-III.D.", "AMS-III.AO.")),
        ("AMS-III.Z", ("AMS-III.Z.",)),
        ("VM0007; VM0010; VM0048", ("VM0007", "VM0010", "VM0048")),
        ("AR-ACM0003 Afforestation and reforestation of lands except wetlands", ("AR-ACM0003",)),
        ("ACM0002 Grid-connected electricity generation from renewable sources", ("ACM0002",)),
        ('["vm0047"]', ("VM0047",)),
        ("ARB Compliance Offset Protocol: Mine Methane Capture Projects", ("ARB-MMC",)),
        ("GS TPDDTEC v3.1", ("GS-TPDDTEC",)),
        ("CAR Mexico Forest Protocol", ("CAR-MX-FOREST",)),
        ("Other", ()),
        ("Not provided", ()),
        (None, ()),
    ],
)
def test_methodology_codes(text, codes):
    assert vocab.parse_methodologies(text) == codes


def test_classification_rules_and_override():
    assert vocab.classify(("VM0007",)) == vocab.Classification("REDD+", "forestry-land-use", "methodology")
    # ACM0002 is used by wind, hydro and solar: the category is sure, the type comes from the registry's words
    assert vocab.classify(("ACM0002",)) == vocab.Classification(None, "renewable-energy", "methodology")
    assert vocab.classify(("ACM0002",), ("Wind",)).type == "Wind"
    assert vocab.classify((), ("Forestry - MX",)).type == "Improved Forest Management"
    # VROD's hand-assigned type wins
    assert vocab.classify(("VM0007",), (), "Jurisdictional REDD+").type == "Jurisdictional REDD+"
    # OffsetsDB's names map to the same vocabulary
    assert vocab.classify((), (), "Cookstove") == vocab.Classification("Cookstoves", "household-community", "override")
    assert vocab.classify((), ()) == vocab.Classification(None, None, None)


def test_every_protocol_rule_names_a_known_type_and_category():
    import csv
    from importlib.resources import files

    with files("carbonscope.registry.vocab").joinpath("protocols.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert all(len(r) == 4 for r in rows), [r for r in rows if len(r) != 4]
    for p in vocab._protocols():
        assert vocab.canonical_type(p.type) == p.type, p.code
        assert vocab.category_of_type(p.type) == p.category, p.code
    with files("carbonscope.registry.vocab").joinpath("registry_types.csv").open() as fh:
        assert all(len(r) == 2 for r in csv.reader(fh))
    for r in vocab._registry_types():
        assert vocab.canonical_type(r[1]) == r[1]
    assert vocab.classify((), ("Small, Low - Impact Hydro",)).type == "Hydropower"
    assert vocab.parse_methodologies("FCPF - Carbon Fund Methodological Framework") == ("FCPF-CF-MF",)
    assert vocab.parse_methodologies("ART - The REDD+ Environmental Excellence Standard (TREES)") == ("ART-TREES",)


def test_every_type_has_a_category_of_the_vocabulary():
    table = vocab._type_categories()
    assert {cat for _, cat in table.values()} <= set(vocab.CATEGORIES)
    for code, (t, cat) in vocab._method_types().items():
        assert cat in vocab.CATEGORIES, code
        assert t is None or vocab.category_of_type(t) == cat, code


@pytest.mark.parametrize(
    "raw,status",
    [
        ("Under validation", "listed"),
        ("Registered", "registered"),
        ("Gold Standard Certified Project", "registered"),
        ("Late to verify", "inactive"),
        ("ARB Completed", "completed"),
        ("Rejected by Administrator", "rejected"),
        ("Registration and verification approval request denied", "rejected"),
        ("Transfer to Another GHG Program", "transferred"),
        ("Withdrawn", "withdrawn"),
        ("", None),
        ("something new", None),
    ],
)
def test_status_vocabulary(raw, status):
    assert vocab.harmonise_status(raw) == status


@pytest.mark.parametrize(
    "raw,code",
    [
        ("Viet Nam", "VN"),
        ("COTE D'IVOIRE", "CI"),
        ("US", "US"),
        ("DR Congo", "CD"),
        ("Congo Republic", "CG"),
        ("Kosovo", "XK"),
        ("Bolivia", "BO"),
        ("United States", "US"),
        ("International", None),
        ("not found", None),
        ("", None),
        ("ZZ", None),
    ],
)
def test_countries(raw, code):
    assert to_alpha2(raw) == code


def test_country_names():
    assert country_name("CI") == "Côte d'Ivoire" and country_name("XK") == "Kosovo" and country_name(None) is None
    # names as people write them, not ISO's index form ("Congo, The Democratic Republic of the")
    assert country_name("CD") == "DR Congo" and country_name("VG") == "British Virgin Islands"
    import pycountry

    assert not [
        c.alpha_2 for c in pycountry.countries if "," in country_name(c.alpha_2) or "(" in country_name(c.alpha_2)
    ]
