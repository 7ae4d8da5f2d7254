"""Targeting alert rules: when a first identification, a rising mismatch rate or a repeated importer is
worth telling the laboratory managers. Pure Python; the services feed it counts and keys.

Three rules (issue 17, "trend and alert rules"):

1. **First identification.** A substance identified for the first time in an administration, or in the
   whole network (a new psychoactive substance, say), alerts once: the first approval that names it
   claims the (administration, substance) pair, and every later one finds it taken.
2. **Rising mismatch rate.** For one HS heading × origin, the recent window (by default the last 90 days)
   is compared with the history before it (by default the 365 days before the window). The alert fires
   when the recent window holds at least `min_recent_n` decided cases and the lower bound of its 95 %
   Wilson interval lies above the upper bound of the history's: the two intervals do not overlap, so
   the rise is not a handful of unlucky cases. A heading × origin with no decided case in its history
   is left out: there is nothing to rise above (the repeated-importer rule and the dashboard cover it).
3. **Repeated importer.** An importer with at least `importer_mismatches` decided cases differing from
   their declaration within `importer_days` (by default 3 within 180 days).

Each alert has a key naming its event, so it is stored once: the substance for a first identification;
the heading, origin and day for a rate; the importer's token and day for an importer. A periodic rule
stays quiet while the same selector alerted within its window (`recent_days` for a rate, `importer_days`
for an importer): a condition that persists, or the same cases still in the window, alert once per
window, not on every run or every month.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from customslab.domain.targeting import party_key, wilson_interval

#: The administration code of the network-wide first identification.
NETWORK = "*"


class AlertKind(StrEnum):
    FIRST_IDENTIFICATION = "first_identification"
    RISING_RATE = "rising_rate"
    REPEATED_IMPORTER = "repeated_importer"


@dataclass(frozen=True)
class AlertRules:
    """The rules' parameters (CUSTOMSLAB_ALERT_* settings at the edges)."""

    recent_days: int = 90
    history_days: int = 365
    min_recent_n: int = 5
    importer_mismatches: int = 3
    importer_days: int = 180

    def __post_init__(self) -> None:
        for name in ("recent_days", "history_days", "min_recent_n", "importer_mismatches", "importer_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"The alert rule's {name} must be at least 1, not {getattr(self, name)}.")


@dataclass(frozen=True)
class Window:
    """A closed range of decision days."""

    start: date
    end: date


def rate_windows(today: date, rules: AlertRules) -> tuple[Window, Window]:
    """(recent, history): the last `recent_days` up to today, and the `history_days` just before them."""
    recent = Window(today - timedelta(days=rules.recent_days - 1), today)
    history_end = recent.start - timedelta(days=1)
    return recent, Window(history_end - timedelta(days=rules.history_days - 1), history_end)


def importer_window(today: date, rules: AlertRules) -> Window:
    return Window(today - timedelta(days=rules.importer_days - 1), today)


def rate_rises(recent_k: int, recent_n: int, history_k: int, history_n: int, rules: AlertRules) -> bool:
    """Whether the recent mismatch rate rose above its history: recent n ≥ `min_recent_n`, a history of
    at least one case, and Wilson lower bound (recent) > Wilson upper bound (history), both 95 %.

    Wilson score interval: centre (k + z²/2)/(n + z²), half-width z/(n + z²)·√(k(n−k)/n + z²/4),
    z = 1.96 (E. B. Wilson 1927, JASA 22:209; see `domain.targeting.wilson_interval`). Non-overlapping
    intervals are a conservative test of a difference (Schenker & Gentleman 2001, Am. Stat. 55:182): an
    alert it raises is a real rise, at the price of missing some smaller ones."""
    if recent_n < rules.min_recent_n:
        return False
    recent, history = wilson_interval(recent_k, recent_n), wilson_interval(history_k, history_n)
    if recent is None or history is None:
        return False
    return recent[0] > history[1]


def importer_repeats(mismatches: int, rules: AlertRules) -> bool:
    """Whether an importer's differing cases within the window reach the rule's count."""
    return mismatches >= rules.importer_mismatches


#: The longest substance key (its column's width); a longer name is shortened with a digest of the whole.
SUBSTANCE_KEY_LENGTH = 120


def name_key(normalised_name: str) -> str:
    """The key of a substance name as the substance register normalises it (salt words, derivatisation
    tags and stereodescriptors stripped): "name:cocaine" for cocaine and its hydrochloride. A name too
    long for the column is shortened with a digest of the whole. Empty for an empty name."""
    if not normalised_name:
        return ""
    key = f"name:{normalised_name}"
    if len(key) <= SUBSTANCE_KEY_LENGTH:
        return key
    digest = hashlib.sha256(normalised_name.encode("utf-8")).hexdigest()[:16]
    return f"{key[: SUBSTANCE_KEY_LENGTH - 17]}~{digest}"


def skeleton_key(inchikey: str) -> str:
    """The key of an InChIKey's first block (the connectivity of the structure as given), or empty when
    `inchikey` is not one. A base and its salt have different first blocks (cocaine ZPUCINDJVBIVPJ,
    cocaine hydrochloride PIQVDUKEQYOJNR), so this is never a substance's only key when it has a name."""
    block = inchikey.strip().upper().split("-", 1)[0]
    if len(block) == 14 and block.isalpha() and block.isascii():
        return f"ik:{block}"
    return ""


def substance_keys(normalised_name: str, inchikey: str) -> tuple[str, ...]:
    """Every key of a substance as the first-identification rule counts it, the primary one first: the
    name key (`name_key`: the register's canonical name when it lists the substance, else the hit's name,
    both normalised), then the InChIKey skeleton when the hit has one. The substance is new only when
    none of its keys was claimed before, so the salt of a known base, or a known structure under a name
    the register does not list, stays quiet."""
    keys = (name_key(normalised_name), skeleton_key(inchikey))
    return tuple(dict.fromkeys(k for k in keys if k))


def recently_alerted(raised_on: Iterable[date], today: date, days: int) -> bool:
    """Whether the same rule and selector alerted within the last `days` days up to today: then the
    same evidence (or a persisting condition) is not alerted again."""
    since = today - timedelta(days=days - 1)
    return any(day >= since for day in raised_on)


def importer_token(importer: str) -> str:
    """A short stable token for an importer (12 hex digits of SHA-256 over its `party_key`: the name as
    the figures group it): alert keys and e-mailed subjects name the token, never the importer."""
    return hashlib.sha256(party_key(importer).encode("utf-8")).hexdigest()[:12]


def first_key(administration: str, key: str) -> str:
    return f"first:{administration}:{key}"


def rate_key(administration: str, heading: str, origin: str, today: date) -> str:
    return f"rate:{administration}:{heading}:{origin}:{today.isoformat()}"


def importer_key(administration: str, importer: str, today: date) -> str:
    return f"importer:{administration}:{importer_token(importer)}:{today.isoformat()}"
