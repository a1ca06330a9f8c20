"""The automatic checks every new or edited review passes before anyone sees it.

A review is *rejected* outright when it uses a banned word (config `review_banned_words`), and *held* for an admin
when it has a link, repeated text (a character run, or one word making up most of a long text), or arrives in a
burst (too many reviews from one account, or on one product, within `review_burst_seconds`). Everything else is
*published*. The verdict carries the reasons, so an admin reading the queue sees why.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

State = Literal["published", "held", "rejected"]

_LINK = re.compile(r"(https?://|www\.|\b[a-z0-9-]+\.(com|net|org|io|ru|cn|biz|info|xyz|shop)\b)", re.I)
_RUN = re.compile(r"(.)\1{9,}", re.S)  # one character ten times or more in a row
_WORD = re.compile(r"[\w']+")
REPEATED_WORD_SHARE = 0.5  # one word is more than half of the words ...
REPEATED_WORD_MIN = 8  # ... of a text of at least this many words


@dataclass(frozen=True)
class ModerationPolicy:
    banned_words: frozenset[str] = frozenset()
    burst_per_author: int = 5  # reviews one account may submit within the window before they are held
    burst_per_product: int = 20  # reviews one product may receive within the window before they are held
    burst_seconds: float = 3600.0


@dataclass(frozen=True)
class Verdict:
    state: State
    reasons: list[str] = field(default_factory=list)


def screen(title: str, body: str, policy: ModerationPolicy, by_author_recently: int, on_product_recently: int
           ) -> Verdict:
    """The verdict on a review's text; `*_recently` count the reviews already submitted within the burst window."""
    text = f"{title}\n{body}"
    words = [w.lower() for w in _WORD.findall(text)]
    if policy.banned_words & set(words):
        return Verdict("rejected", ["banned_word"])
    reasons = []
    if _LINK.search(text):
        reasons.append("link")
    if _RUN.search(text) or _one_word_dominates(words):
        reasons.append("repeated_text")
    if by_author_recently >= policy.burst_per_author:
        reasons.append("burst_from_author")
    if on_product_recently >= policy.burst_per_product:
        reasons.append("burst_on_product")
    return Verdict("held", reasons) if reasons else Verdict("published")


def _one_word_dominates(words: list[str]) -> bool:
    if len(words) < REPEATED_WORD_MIN:
        return False
    _, most = Counter(words).most_common(1)[0]
    return most / len(words) > REPEATED_WORD_SHARE
