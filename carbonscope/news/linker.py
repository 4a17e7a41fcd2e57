"""Link news items to registry projects, countries and methodologies.

* a project ID in the text (VCS1340, "Verra project 1340", GS 2913): confidence 0.95;
* a registry serial number (Verra, Gold Standard, APX blocks): the project it names, 0.99;
* a project's distinctive name: the name without generic words ("project", "REDD+", "grouped",
  ...), kept only when one of its words is rare in English (wordfreq Zipf frequency below 3, so
  "Kariba" or "Katingan" but not "Sustainable"), matched as whole words written with capitals as a
  proper noun is, and not as the start of a longer name ("Mato Grosso" inside "Mato Grosso do
  Sul"); a one-word name also needs the text to name the project's registry or its type
  ("Kariba" with "Verra" or "REDD+"); 0.85 for two words or more, 0.7 for one, 0.1 more when the
  text speaks of a project or credits; a name shared by several projects divides the confidence
  among them; names that are only a country's name are left to the country link;
* a developer's distinctive name (the registry's proponent without its legal form, "Groundwork
  BioAg" for "Groundwork BioAg Ltd."; a plural last word matches, "Koko Networks"), written as a
  name: the developer, 0.8 (0.7 for one word, which also needs the text to speak of carbon,
  credits, projects or developers); lists of several proponents are not matched;
* a country's name: the country, 0.9; a methodology code: the methodology, 0.95.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import pycountry
from sqlalchemy import Connection, select

from carbonscope.db.schema import projects
from carbonscope.registry.vocab import CODE_RE, normalise_code

GENERIC = {
    "project",
    "projects",
    "programme",
    "program",
    "redd",
    "redd+",
    "the",
    "of",
    "and",
    "de",
    "la",
    "del",
    "do",
    "da",
    "grouped",
    "bundled",
    "carbon",
    "forest",
    "forests",
    "conservation",
    "reforestation",
    "afforestation",
    "improved",
    "management",
    "ifm",
    "a/r",
    "ar",
    "vpa",
    "cpa",
    "poa",
    "in",
    "for",
    "at",
    "on",
    "to",
    "ltd",
    "limited",
    "company",
    "co",
    "inc",
    "energy",
    "power",
    "wind",
    "solar",
    "hydro",
    "hydropower",
    "biogas",
    "cookstove",
    "cookstoves",
    "stoves",
    "efficient",
    "clean",
    "water",
    "landfill",
    "gas",
    "methane",
    "plant",
    "farm",
    "station",
    "national",
    "park",
    "reserve",
    "community",
    "communities",
    "initiative",
    "emission",
    "emissions",
    "reduction",
    "reductions",
    "avoided",
    "deforestation",
    "degradation",
    "mw",
    "jurisdictional",
    "phase",
    "i",
    "ii",
    "iii",
    "-",
    "–",
    "project.",
}
ID_RE = re.compile(
    r"\b(?:(VCS|GS|ACR|CAR|ART)[ -]?(\d{2,6})|(Verra|Gold Standard)(?: project)?(?: ID)?[ #]?(\d{2,6}))\b",
    re.IGNORECASE,
)
SERIAL_RE = re.compile(
    r"\b(?:\d{3,6}-\d{6,12}-\d{6,12}-VCS-VCU-\d+-VER-[A-Z]{2}-\d+-(?P<vcs>\d+)-\d{8}-\d{8}-\d"
    r"|GS1-1-[A-Z]{2}-GS(?P<gs>\d+)-\d+-\d{4}-\d+-\d+-\d+"
    r"|(?P<apx>ACR|CAR|ART)-[A-Z0-9]+-(?:[A-Z]{2}-)?(?P<apxid>\d+)-[0-9-]+ to \d+)\b"
)


@dataclass(frozen=True)
class Link:
    target_kind: str
    target_id: str
    confidence: float
    method: str
    evidence: str


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9+/ ]+", " ", text)


def _words(text: str) -> list[str]:
    return [w for w in _fold(text).split() if w]


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    names = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name"):
            v = getattr(c, attr, None)
            if v and "," not in v:
                names[" ".join(_words(v))] = c.alpha_2
    for alias, code in (
        ("ivory coast", "CI"),
        ("dr congo", "CD"),
        ("democratic republic of congo", "CD"),
        ("democratic republic of the congo", "CD"),
        ("drc", "CD"),
        ("south korea", "KR"),
        ("vietnam", "VN"),
        ("laos", "LA"),
        ("russia", "RU"),
        ("turkey", "TR"),
        ("tanzania", "TZ"),
        ("bolivia", "BO"),
        ("venezuela", "VE"),
        ("iran", "IR"),
        ("syria", "SY"),
        ("uk", "GB"),
        ("united kingdom", "GB"),
        ("united states", "US"),
        ("usa", "US"),
        ("taiwan", "TW"),
        ("moldova", "MD"),
        ("brazil", "BR"),
    ):
        names[alias] = code
    names.pop("georgia", None)  # also a US state
    names.pop("jordan", None)  # a common name
    names.pop("chad", None)
    names.pop("congo", None)  # bare "Congo" may be either Congo; link only the explicit names
    names["republic of the congo"] = "CG"
    names["congo brazzaville"] = "CG"
    return names


def _distinctive(core: tuple[str, ...]) -> bool:
    """One rare word (Zipf below 3: "Kariba"), or, in a name of three words or more, one uncommon
    word (below 3.5: "Northern Kenya Grassland"): three capitalised words in that order are a name."""
    from wordfreq import zipf_frequency

    limit = 3.5 if len(core) >= 3 else 3.0
    return any(len(w) >= 4 and zipf_frequency(w, "en") < limit for w in core)


# Words of a company's legal form, dropped from a developer's name ("Groundwork BioAg Ltd." -> groundwork bioag)
LEGAL_FORMS = {
    "ag", "gmbh", "sa", "sas", "sarl", "srl", "ltda", "llc", "lp", "plc", "pvt", "private", "pty", "bv",
    "nv", "spa", "s", "a", "corp", "corporation", "group", "holdings", "holding", "pte", "jsc", "ojsc", "tbk",
    "pt", "cv", "kg", "oy", "ab", "as", "asa", "bhd", "sdn", "k", "ltd", "limited", "inc", "co", "company",
}  # fmt: skip
MULTIPLE = {"multiple", "proponents", "various", "several", "see", "not", "disclosed", "unknown"}


REGISTRY_WORDS = {
    "VCS": {"verra", "vcs", "vcus", "vcu"},
    "GS": {"gold", "standard"},
    "ACR": {"acr", "american"},
    "CAR": {"reserve", "car", "crts"},
    "ART": {"art", "trees", "jurisdictional"},
}


def _written_as_name(text: str, gram: tuple[str, ...]) -> bool:
    """The words appear with capitals (a proper noun), not as ordinary lower-case words, and the
    name does not go on ("Mato Grosso" followed by "do Sul" is another place)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    pattern = r"\b" + r"[^A-Za-z0-9]+".join(re.escape(w) for w in gram) + r"\b"
    for m in re.finditer(pattern, ascii_text, re.IGNORECASE):
        words = re.findall(r"[A-Za-z0-9]+", m.group(0))
        if not all(w[0].isupper() or w[0].isdigit() for w in words):
            continue
        nxt = re.match(r"\s+(?:(?:do|da|de|del|dos|das|of)\s+)?([A-Z][a-z]+)", ascii_text[m.end() :])
        if nxt and nxt.group(1).lower() not in GENERIC:  # "Kariba REDD+ Project" goes on with generic words
            continue
        return True
    return False


DEVELOPER_CONTEXT = re.compile(r"\bdevelop|\bcarbon\b|\bcredits?\b|\bprojects?\b|\boffsets?\b", re.IGNORECASE)


def _singular(word: str) -> str:
    """ "networks" -> "network", so "Koko Networks" is the registry's "KOKO Network limited"."""
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def developer_core(proponent: str) -> tuple[str, ...] | None:
    """The distinctive words of a developer's name, or None when the name cannot be told apart
    from ordinary words (a list of several proponents, or "South Pole": two common words)."""
    if not proponent or any(sep in proponent for sep in (";", "|", "/", " and ", "&", ",")):
        return None
    words = [w for w in _words(re.sub(r"\(.*?\)", " ", proponent)) if w not in LEGAL_FORMS]
    if not words or len(words) > 5 or set(words) & MULTIPLE:
        return None
    core = tuple(_singular(w) for w in words)
    if " ".join(words) in _country_names() or not _distinctive(tuple(words)):
        return None
    return core


class Linker:
    def __init__(
        self,
        names: dict[tuple[str, ...], list[str]],
        ids: set[str],
        context: dict[str, set[str]] | None = None,
        developers: dict[tuple[str, ...], str] | None = None,
    ):
        """``names``: distinctive name cores (tuples of folded words) -> project IDs; ``context``:
        project ID -> words that confirm a one-word name (its registry's and type's words);
        ``developers``: distinctive cores of developers' names -> the name as the registry writes it."""
        self.names = names
        self.ids = ids
        self.context = context or {}
        self.developers = developers or {}
        self.max_len = max((len(k) for k in (*names, *self.developers)), default=1)
        self.countries = _country_names()

    @classmethod
    def from_db(cls, conn: Connection) -> Linker:
        names: dict[tuple[str, ...], list[str]] = {}
        ids = set()
        context: dict[str, set[str]] = {}
        countries = set(_country_names())
        spellings: dict[tuple[str, ...], Counter] = {}
        for pid, name, registry, ptype, proponent in conn.execute(
            select(projects.c.id, projects.c.name, projects.c.registry, projects.c.project_type, projects.c.proponent)
        ):
            dev = developer_core(proponent or "")
            if dev:
                spellings.setdefault(dev, Counter())[proponent.strip()] += 1
            ids.add(pid)
            core = tuple(w for w in _words(name or "") if w not in GENERIC and not w.isdigit())[:6]
            if not core or " ".join(core) in countries or not _distinctive(core):
                continue
            names.setdefault(core, []).append(pid)
            if len(core) == 1:
                context[pid] = REGISTRY_WORDS.get(registry, set()) | {
                    w for w in _words(ptype or "") if len(w) > 3 or w.endswith("+")
                }
        developers = {core: names_seen.most_common(1)[0][0] for core, names_seen in spellings.items()}
        return cls(names, ids, context, developers)

    def links(self, title: str, summary: str = "") -> list[Link]:
        text = f"{title}\n{summary}"
        found: dict[tuple[str, str], Link] = {}

        def add(link: Link):
            key = (link.target_kind, link.target_id)
            if key not in found or found[key].confidence < link.confidence:
                found[key] = link

        for m in SERIAL_RE.finditer(text):
            pid = (
                f"VCS{m.group('vcs')}"
                if m.group("vcs")
                else f"GS{m.group('gs')}"
                if m.group("gs")
                else f"{m.group('apx').upper()}{m.group('apxid')}"
            )
            if pid in self.ids:
                add(Link("project", pid, 0.99, "serial", m.group(0)[:120]))
        for m in ID_RE.finditer(text):
            if m.group(1):
                pid = m.group(1).upper() + str(int(m.group(2)))
            else:
                pid = ("VCS" if m.group(3).lower() == "verra" else "GS") + str(int(m.group(4)))
            if pid in self.ids:
                add(Link("project", pid, 0.95, "id", m.group(0)))
        words = _words(text)
        projectish = bool(re.search(r"\bproject|credits?\b|\bREDD|offset|programme|program\b", text, re.IGNORECASE))
        for n in range(self.max_len, 0, -1):
            for i in range(len(words) - n + 1):
                gram = tuple(words[i : i + n])
                hits = self.names.get(gram)
                if hits and len(hits) <= 3 and _written_as_name(text, gram):
                    base = (0.85 if n >= 2 else 0.7) + (0.1 if projectish else 0.0)
                    for pid in hits:
                        if n == 1 and not (self.context.get(pid, set()) & set(words)):
                            continue
                        add(Link("project", pid, round(base / len(hits), 3), "name", " ".join(gram)))
        dev_words = [_singular(w) for w in words]
        for n in range(self.max_len, 0, -1):
            for i in range(len(dev_words) - n + 1):
                gram = tuple(dev_words[i : i + n])
                dev = self.developers.get(gram)
                if dev and _written_as_name(text, tuple(words[i : i + n])):
                    if n == 1 and not DEVELOPER_CONTEXT.search(text):
                        continue
                    add(Link("developer", dev, 0.8 if n >= 2 else 0.7, "developer", " ".join(words[i : i + n])))
        # Longest names first, and a matched name hides the shorter ones inside it
        # ("Democratic Republic of Congo" is DR Congo, not the Republic of the Congo).
        joined = " " + " ".join(words) + " "
        for name in sorted(self.countries, key=len, reverse=True):
            needle = f" {name} "
            if needle in joined:
                add(Link("country", self.countries[name], 0.9, "country", name))
                joined = joined.replace(needle, " # ")
        for m in CODE_RE.finditer(text):
            code = normalise_code(m.group(0))
            add(Link("methodology", code, 0.95, "methodology", m.group(0)))
        return sorted(found.values(), key=lambda link: (-link.confidence, link.target_kind, link.target_id))
