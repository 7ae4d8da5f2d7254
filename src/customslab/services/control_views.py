"""How a spectral hit's control status reads: the typed view stored with a hit, and its words.

A hit's controls are computed when the search runs and stored with the hit list, so an identification
keeps the control status of the day it was made (evidence), whatever the lists say later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import Field

from customslab.domain.model import Identification
from customslab.domain.quality.report_text import report_text
from customslab.services.contract import View
from customslab.substances.register import ControlMatch, Regime


class ControlStatus(View):
    """One control of the substance a hit is: a UN convention's schedule or table, or a national list."""

    regime: str = Field(description="UN1961, UN1971, UN1988 or national.")
    schedule: str = Field(description="The schedule (I–IV), the 1988 table (I, II) or the national category.")
    label: str = Field(description='As the page shows it: "UN 1971 Schedule II", "UN 1988 Table I".')
    list_name: str = Field(description="The convention, or the national list's name.")
    reference: str = Field(
        default="", description="The national list's legal reference; the UN list's edition."
    )
    source: str = Field(default="", description="The register row's source (list, edition or year).")
    substance: str = Field(description="The register's name of the substance matched.")
    matched_by: str = Field(description="How the hit was recognised: cas, inchikey or name.")

    @classmethod
    def of(cls, m: ControlMatch) -> ControlStatus:
        e = m.entry
        return cls(
            regime=e.regime.value,
            schedule=e.schedule,
            label=e.label,
            list_name=e.list_name,
            reference=e.reference,
            source=e.source,
            substance=m.substance.name,
            matched_by=m.matched_by,
        )


def stored_controls(hit: Mapping[str, Any]) -> list[ControlStatus]:
    """The controls stored with a hit of an identification (none for a hit kept before the register)."""
    return [ControlStatus.model_validate(c) for c in hit.get("controls") or []]


def identified_controls(identification: Identification | None, substance: str) -> list[ControlStatus]:
    """The controls of the hit an identity result names (the first hit of that name), as stored."""
    if identification is None or not substance:
        return []
    wanted = substance.strip().casefold()
    hit = next((h for h in identification.hits if str(h.get("name", "")).casefold() == wanted), None)
    return stored_controls(hit) if hit is not None else []


def mark_text(controls: Iterable[ControlStatus], before: str = "") -> str:
    """The mark a case carries: its control entries, each once, in a stable order ("UN 1961 Schedule I;
    UN 1988 Table I"). It names the controls, not the substance or any other detail of the result."""
    labels = [x for x in before.split("; ") if x] + [c.label for c in controls]
    return "; ".join(sorted(dict.fromkeys(labels)))


def control_words(controls: Sequence[ControlStatus], language: str = "en") -> tuple[str, ...]:
    """Each control as the report prints it, in the report's language."""
    words = []
    for c in controls:
        if c.regime == Regime.NATIONAL.value:
            said = report_text(language, "control.national", list=c.list_name, schedule=c.schedule)
            words.append(f"{said} ({c.reference})" if c.reference else said)
        else:
            words.append(report_text(language, f"control.{c.regime}", schedule=c.schedule))
    return tuple(dict.fromkeys(words))
