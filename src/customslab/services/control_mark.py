"""The mark a case carries for its officer once a result names a controlled substance: which controls
count, how they are stored and how they read.

The mark is stored as codes in the sample's `control_mark` column (migration 0011): `UN1961:I|UN1988:II`,
a national list's entry as `national:<category>:<list name>`. The pages render each code through the
same control label as a hit's badge (so it reads in the page's language), and say "preliminary —
awaiting review" until a test holding an identity or text result is approved. A mark written before the
codes ("UN 1961 Schedule I; UN 1988 Table I") still reads, as its own words.

The officer's mark counts the UN lists and the national lists of the requesting administration only: a
list of the laboratory's administration does not apply to an officer of another one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import Field

from customslab.domain.enums import ResultKind, State
from customslab.domain.model import AnalysisTest, Identification, Result, Sample
from customslab.services.contract import View
from customslab.services.control_views import ControlStatus
from customslab.substances.register import Regime, Register

#: Between the codes of one mark (a national list's name has its `|` replaced).
SEPARATOR = "|"
_UN = {r.value for r in Regime if r is not Regime.NATIONAL}


class MarkEntry(View):
    """One control a case is marked with, as `_controls.html` `control_label` renders it."""

    regime: str = Field(description="UN1961, UN1971, UN1988 or national.")
    schedule: str = ""
    list_name: str = ""
    label: str = Field(description='In English: "UN 1988 Table II", "<national list>: <category>".')


class CaseMark(View):
    """A case's mark: its controls and whether a reviewer has approved the result behind it yet."""

    entries: list[MarkEntry]
    preliminary: bool = Field(description="True until a test with an identity or text result is approved.")


def code_of(c: ControlStatus) -> str:
    if c.regime == Regime.NATIONAL.value:
        return f"{c.regime}:{c.schedule.replace(':', ' ')}:{c.list_name}".replace(SEPARATOR, "/")
    return f"{c.regime}:{c.schedule}"


def mark_codes(controls: Iterable[ControlStatus], before: str = "") -> str:
    """The stored mark: the codes already there and the controls', each once, in a stable order."""
    codes = [x for x in before.split(SEPARATOR) if x] if _is_coded(before) else []
    return SEPARATOR.join(sorted(dict.fromkeys([*codes, *(code_of(c) for c in controls)])))


def _is_coded(text: str) -> bool:
    return bool(text) and all(
        x.split(":", 1)[0] in _UN or x.startswith("national:") for x in text.split(SEPARATOR) if x
    )


def _entry(code: str) -> MarkEntry:
    regime, _, rest = code.partition(":")
    if regime in _UN:
        kind = "Table" if regime == Regime.UN1988.value else "Schedule"
        return MarkEntry(regime=regime, schedule=rest, label=f"UN {regime.removeprefix('UN')} {kind} {rest}")
    schedule, _, list_name = rest.partition(":")
    label = f"{list_name}: {schedule}" if schedule else list_name
    return MarkEntry(regime=Regime.NATIONAL.value, schedule=schedule, list_name=list_name, label=label)


def mark_entries(stored: str) -> list[MarkEntry]:
    """The stored mark's entries; a mark stored as words before the codes keeps its words."""
    if not stored:
        return []
    if _is_coded(stored):
        return [_entry(x) for x in stored.split(SEPARATOR) if x]
    return [MarkEntry(regime="text", label=x) for x in stored.split("; ") if x]


def _reviewed(tests: Sequence[AnalysisTest]) -> bool:
    return any(
        t.active
        and t.state is State.APPROVED
        and any(r.kind in (ResultKind.IDENTITY, ResultKind.TEXT) for r in t.results)
        for t in tests
    )


def case_mark(sample: Sample) -> CaseMark | None:
    """The sample's mark as the pages show it (None when unmarked)."""
    entries = mark_entries(sample.control_mark)
    if not entries:
        return None
    return CaseMark(entries=entries, preliminary=not _reviewed(sample.tests))


def applicable(controls: Iterable[ControlStatus], national_lists: Iterable[str]) -> list[ControlStatus]:
    """The controls that apply to the officer: UN ones, and those of the named national lists."""
    names = set(national_lists)
    return [c for c in controls if c.regime != Regime.NATIONAL.value or c.list_name in names]


def result_controls(
    result: Result, identification: Identification | None, register: Register | None
) -> list[ControlStatus]:
    """The controls a result names. An identity: its hit's controls as stored (evidence of the day), or
    the register's for the hit (a hit kept before the register). A text finding: the register's for
    the substance it names exactly (after the register's normalisation of names). Without a register,
    the stored controls only."""
    if result.kind is ResultKind.IDENTITY:
        wanted = result.text_value.strip().casefold()
        hits = identification.hits if identification is not None else []
        hit: dict[str, Any] = next((h for h in hits if str(h.get("name", "")).casefold() == wanted), {})
        stored = [ControlStatus.model_validate(c) for c in hit.get("controls") or []]
        if stored or register is None:
            return stored
        cas = str(hit.get("cas") or "") or None
        key = str(hit.get("inchikey") or "") or None
        return [ControlStatus.of(m) for m in register.controls_for(result.text_value, cas, key)]
    if result.kind is ResultKind.TEXT and register is not None and result.text_value.strip():
        return [ControlStatus.of(m) for m in register.controls_for(result.text_value.strip())]
    return []
