"""News items: canonical links, content hashes, topics."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ito|_ga)$", re.IGNORECASE)

# Topic rules for feed items that do not carry one (first match wins); JSON dumps bring their own.
TOPIC_RULES = [
    ("CORSIA & Aviation", r"\bCORSIA\b|aviation|airline"),
    ("EU CBAM — Policy & Implementation", r"\bCBAM\b|border adjustment"),
    ("Article 6 & Paris Agreement", r"Article 6|\bITMO|Paris Agreement|PACM"),
    ("EU ETS", r"\bEU ETS\b|EUA\b|emissions trading system"),
    ("Carbon Removal & CDR", r"carbon removal|\bCDR\b|direct air capture|biochar|\bDAC\b"),
    ("Nature-based Solutions", r"REDD|forest|mangrove|nature-based|blue carbon|afforestation"),
    ("Voluntary Carbon Market (VCM)", r"voluntary carbon|carbon credit|offset|Verra|Gold Standard|ICVCM|\bVCM\b"),
]


def canonical_link(url: str) -> str:
    """Scheme and host lower-cased, tracking parameters, fragments and trailing slashes dropped."""
    parts = urlsplit((url or "").strip())
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k))
    )
    path = re.sub(r"/+$", "", parts.path) or "/"
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit(("https" if parts.scheme in ("http", "https") else parts.scheme.lower(), host, path, query, ""))


def _norm_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def content_hash(title: str, summary: str) -> str:
    return hashlib.sha256((_norm_text(title) + "\n" + _norm_text(summary)[:500]).encode()).hexdigest()


def topic_for(title: str, summary: str) -> str:
    text = f"{title} {summary}"
    for topic, pattern in TOPIC_RULES:
        if re.search(pattern, text, re.IGNORECASE):
            return topic
    return "Other"


def strip_html(text: str | None) -> str:
    if not text:
        return ""
    import html

    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()


@dataclass
class Item:
    title: str
    link: str
    summary: str = ""
    source: str | None = None
    published_at: datetime | None = None
    topic: str | None = None
    keywords: list[str] = field(default_factory=list)
    feed: str | None = None
    language: str | None = None  # two-letter code; detected from the text when the source gives none

    @property
    def canonical(self) -> str:
        return canonical_link(self.link)

    @property
    def hash(self) -> str:
        return content_hash(self.title, self.summary)


def parse_time(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            dt = parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
