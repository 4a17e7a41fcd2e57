"""The language a news item is written in: detected from its text (py3langid), named for people.

Detection is limited to the languages carbon-market news is published in (a model that may
answer any of ~100 languages calls a short English headline Nigerian Pidgin, and traditional
Chinese Cantonese). A text too short to tell, or whose best guess is unsure, takes the language
its feed declares (RSS ``<language>``), else stays unknown rather than guessed.
"""

from __future__ import annotations

from functools import lru_cache

import pycountry

NEWS_LANGUAGES = (
    "en", "zh", "ja", "ko", "fr", "de", "es", "pt", "it", "nl", "sv", "da", "no", "fi", "pl", "ru",
    "uk", "tr", "ar", "hi", "id", "ms", "vi", "th",
)  # fmt: skip
MIN_CONFIDENCE = 0.5
MIN_LETTERS = 12


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(NEWS_LANGUAGES))
    return ident


def declared(code: str | None) -> str | None:
    """A feed's declared language ("en-us", "zh-TW") as a two-letter code, when it is one we know."""
    base = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in NEWS_LANGUAGES else None


def detect(title: str, summary: str = "", feed_language: str | None = None) -> str | None:
    """Two-letter language code of the text, or the feed's when the text cannot tell, or None."""
    text = f"{title}\n{summary or ''}".strip()
    fallback = declared(feed_language)
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return fallback
    lang, confidence = _identifier().classify(text)
    if confidence < MIN_CONFIDENCE:
        return fallback
    return lang


def name(code: str | None) -> str:
    """The language's English name ("Chinese"), or "Unknown language"."""
    if not code:
        return "Unknown language"
    lang = pycountry.languages.get(alpha_2=code)
    return lang.name.split(" (")[0] if lang else code
