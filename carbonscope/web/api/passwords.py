"""The password meter's question: how strong is this password, by the policy the forms apply."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from carbonscope.accounts import passwords

router = APIRouter(tags=["accounts"])
LABELS = ["Very weak", "Weak", "Fair", "Strong", "Very strong"]


class StrengthQuery(BaseModel):
    password: str = Field("", max_length=1024)
    email: str = Field("", max_length=254)
    name: str = Field("", max_length=80)


class Strength(BaseModel):
    score: int = Field(description="0 (very weak) to 4 (very strong)")
    acceptable: bool = Field(description="whether the sign-up and password forms accept it")
    words: str = Field(description="the verdict in plain words")


@router.post("/password-strength", summary="How strong a new password is", response_model=Strength)
def password_strength(q: StrengthQuery) -> Strength:
    """The meter beside new-password fields: the policy's own verdict (length, breached-password list,
    guessability given the account's e-mail and name). Nothing is stored or logged."""
    s = passwords.strength(q.password, (q.email, q.name))
    words = LABELS[s["score"]] + (f": {s['problem']}" if s["problem"] else " enough")
    if s["hints"] and not s["acceptable"]:
        words += ". " + " ".join(s["hints"])
    return Strength(score=s["score"], acceptable=s["acceptable"], words=words)
