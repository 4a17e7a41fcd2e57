"""Country names and codes of every source to ISO 3166-1 alpha-2 (unknown stays ``None``)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

# Names registries use that pycountry does not know, and the user-assigned code for Kosovo.
ALIASES = {
    "kosovo": "XK",
    "ivory coast": "CI",
    "cote divoire": "CI",
    "turkey": "TR",
    "turkiye": "TR",
    "south korea": "KR",
    "korea": "KR",
    "korea republic of": "KR",
    "north korea": "KP",
    "laos": "LA",
    "lao pdr": "LA",
    "russia": "RU",
    "democratic republic of the congo": "CD",
    "democratic republic of congo": "CD",
    "congo democratic republic of the": "CD",
    "congo the democratic republic of the": "CD",
    "dr congo": "CD",
    "drc": "CD",
    "congo drc": "CD",
    "republic of the congo": "CG",
    "republic of congo": "CG",
    "congo republic of the": "CG",
    "congo brazzaville": "CG",
    "congo republic": "CG",
    "cape verde": "CV",
    "swaziland": "SZ",
    "burma": "MM",
    "the gambia": "GM",
    "gambia the": "GM",
    "the bahamas": "BS",
    "bahamas the": "BS",
    "palestine": "PS",
    "state of palestine": "PS",
    "usa": "US",
    "united states of america": "US",
    "us": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "macedonia": "MK",
    "taiwan": "TW",
    "vatican": "VA",
    "micronesia": "FM",
    "east timor": "TL",
    "brunei": "BN",
    "curacao": "CW",
    "reunion": "RE",
    "sao tome and principe": "ST",
    "saint kitts and nevis": "KN",
    "saint lucia": "LC",
    "saint vincent and the grenadines": "VC",
    "st kitts and nevis": "KN",
    "st lucia": "LC",
    "st vincent and the grenadines": "VC",
    "czech republic": "CZ",
    "the netherlands": "NL",
    "hong kong": "HK",
    "macau": "MO",
}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9 ]+", " ", text.casefold())
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                table[_key(value)] = c.alpha_2
                # "Bolivia, Plurinational State of" -> "bolivia"
                table.setdefault(_key(value.split(",")[0]), c.alpha_2)
                table.setdefault(_key(re.sub(r"\s*\(.*\)", "", value)), c.alpha_2)
        table[c.alpha_3.lower()] = c.alpha_2
    table.update(ALIASES)
    return table


@lru_cache(maxsize=4096)
def to_alpha2(value: str | None) -> str | None:
    """``'Viet Nam'`` -> ``'VN'``, ``'US'`` -> ``'US'``, ``"COTE D'IVOIRE"`` -> ``'CI'``; unknown -> ``None``."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.lower() in {
        "nan",
        "none",
        "n/a",
        "unknown",
        "-",
        "international",
        "multiple",
        "not found",
        "not provided",
        "various",
    }:
        return None
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        if code == "XK" or pycountry.countries.get(alpha_2=code):
            return code
        return None
    return _table().get(_key(text))


# Names as people write them, where ISO 3166's is an index entry ("Congo, The Democratic Republic of the")
SHORT_NAMES = {
    "XK": "Kosovo",
    "CD": "DR Congo",
    "BQ": "Caribbean Netherlands",
    "CC": "Cocos Islands",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "MF": "Saint Martin",
    "PS": "Palestine",
    "SH": "Saint Helena",
    "SX": "Sint Maarten",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "US Virgin Islands",
}


@lru_cache(maxsize=512)
def country_name(alpha2: str | None) -> str | None:
    if not alpha2:
        return None
    if alpha2 in SHORT_NAMES:
        return SHORT_NAMES[alpha2]
    c = pycountry.countries.get(alpha_2=alpha2)
    return getattr(c, "common_name", None) or c.name if c else None


@lru_cache(maxsize=1)
def numeric_codes() -> dict[str, str]:
    """alpha-2 -> ISO numeric (the IDs of Natural Earth shapes in world-atlas); Kosovo as Natural Earth has it."""
    return {c.alpha_2: c.numeric for c in pycountry.countries} | {"XK": "-99"}
