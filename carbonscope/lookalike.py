"""Look-alike names and e-mail addresses (Unicode confusables, after UTS #39).

A display name is refused when it mixes scripts with characters that pass for another script's
(Cyrillic "А" in "Аna"), or when it is not the same text as another member's name but reads the
same (its *skeleton*: NFKC, case-folded, every character that has an ASCII look-alike replaced by
it). Two people may both be called "Ana"; nobody may be "Аna" beside "Ana". Data:
``confusable_homoglyphs`` (Unicode's confusables.txt and scripts).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from confusable_homoglyphs import confusables

RESERVED = {"admin", "administrator", "carbonscope", "moderator", "deleted user", "root", "support"}


@lru_cache(maxsize=4096)
def _ascii_twin(ch: str) -> str:
    if ch.isascii():
        return ch
    found = confusables.is_confusable(ch, greedy=True, preferred_aliases=[]) or []
    for f in found:
        for h in f["homoglyphs"]:
            if h["c"].isascii() and len(h["c"]) == 1:
                return h["c"].casefold()
    return ch


def skeleton(text: str) -> str:
    """What a reader sees: the same skeleton means the two strings pass for each other."""
    s = unicodedata.normalize("NFKC", text or "").casefold()
    s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Mn", "Cf"))  # combining marks, zero-width
    return " ".join("".join(_ascii_twin(ch) for ch in s).split())[:160]


def mixed_script(text: str) -> bool:
    """Mixes scripts with characters that pass for each other (e.g. Latin with Cyrillic look-alikes)."""
    return bool(confusables.is_dangerous(unicodedata.normalize("NFKC", text or "")))
