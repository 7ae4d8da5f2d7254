"""Targeting alerts: raising them (a first identification at approval; rising rates and repeated importers
on the worker's schedule or `customslab targeting alerts`) and listing the ones a user may see.

The rules are `domain.targeting_alerts`. An alert is stored once per event (its key). A first
identification goes to the laboratory managers and reviewers of its administration's laboratories (a
network-first one also to the network coordinators, naming only the substance and the administration).
A rate or importer alert goes to the administration's administrators and to the managers and reviewers
of the laboratories whose outcomes make it up (its evidence labs) and of their parents in the same
administration: who sees those laboratories' targeting records by the visibility table. The worker
e-mails notifications of every kind when SMTP is configured. A notification's text names no declaration
data: a repeated importer is named by a token there, and by name only in the alert list of its own
administration, to readers who see every evidence lab.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from customslab.domain.access import Action, Actor, Kind, orgs_seen
from customslab.domain.enums import NotificationKind, ResultKind, Role, State
from customslab.domain.errors import Conflict
from customslab.domain.model import Sample
from customslab.domain.targeting_alerts import (
    NETWORK,
    AlertKind,
    AlertRules,
    Window,
    first_key,
    importer_key,
    importer_repeats,
    importer_token,
    importer_window,
    rate_key,
    rate_rises,
    rate_windows,
    recently_alerted,
    substance_keys,
)
from customslab.services.common import acting
from customslab.services.contract import Command, View
from customslab.services.notifications import notify, subject_for
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.targeting_alert_ports import FirstIdentification, TargetingAlert
from customslab.services.targeting_alert_recipients import coordinators, overseers, staff_of
from customslab.services.targeting_ports import RateRow, SelectorColumn, TargetingScope
from customslab.substances.register import bundled_register, normalise_name

#: Who the records name for what a scheduled run writes.
RULES_ACTOR = "targeting-alerts"
#: Where a notification of an alert leads.
ALERTS_LINK = "/targeting#alerts"
#: Evidence case references kept with a rate or importer alert.
EVIDENCE_PER_ALERT = 10

UnitOfWorkFactory = Callable[[], AbstractUnitOfWork]


class AlertView(View):
    """One alert as its reader may see it: the importer only inside its administration; a rate or
    importer alert only to readers who see every evidence lab's targeting records; a first
    identification's laboratory and sample only inside that laboratory's administration."""

    id: int
    key: str
    rule: AlertKind
    administration_code: str = Field(description='The administration, or "*" for the network.')
    summary: str
    raised_at: datetime
    heading: str
    origin: str
    importer: str | None = Field(description="Declaration data: None outside its administration.")
    substance_key: str
    substance_name: str
    lab_code: str
    sample_reference: str
    recent_n: int
    recent_k: int
    history_n: int
    history_k: int
    period: str
    evidence: list[str]
    labs: list[str] = Field(description="The laboratories whose outcomes make up a rate or importer alert.")


class AlertQuery(Command):
    """Which alerts to list: of one rule or all; the newest `limit`."""

    rule: AlertKind | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class AlertRun(View):
    """What a run of the periodic rules raised (alerts already raised are not counted again)."""

    rising_rates: int = 0
    repeated_importers: int = 0
    notified: int = 0


# -- recipients and raising, inside the caller's unit of work ---------------------------------------
def _raise(uow: AbstractUnitOfWork, alert: TargetingAlert, recipients: Iterable[int]) -> int:
    """Store the alert unless its key was raised already, and notify; how many notifications were new."""
    if uow.quality.find(TargetingAlert, key=alert.key):
        return 0
    uow.quality.add(alert)
    kind = NotificationKind.TARGETING_ALERT
    return notify(uow, recipients, kind, f"alert:{alert.key}", subject_for(kind, alert.summary), ALERTS_LINK)


# -- rule 1: a substance identified for the first time ----------------------------------------------
@dataclass(frozen=True)
class _Identified:
    #: The substance's keys, the primary one (its name key) first (`substance_keys`).
    keys: tuple[str, ...]
    name: str

    @property
    def key(self) -> str:
        return self.keys[0]


def _canonical(name: str, cas: str, inchikey: str) -> str:
    """The substance's name as the bundled UN lists give it when they list it (found by CAS, InChIKey or
    name, as the control mark finds it), else the name as given: "Cocaine hydrochloride" and "cocaine"
    are one substance. The UN lists only, so that every administration keys a substance alike (the
    network-first claim compares keys across administrations)."""
    matches = bundled_register().controls_for(name, cas or None, inchikey or None)
    return matches[0].substance.name if matches else name


def _identified(uow: AbstractUnitOfWork, sample: Sample) -> list[_Identified]:
    """The substances the sample's approved identity results name, each once, by primary key."""
    found: dict[str, _Identified] = {}
    for test in sample.tests:
        if not test.active or test.state is not State.APPROVED:
            continue
        identifications = {i.id: i for i in uow.repo.identifications_for(test.id or 0)}
        for r in test.results:
            name = r.text_value.strip()
            if r.kind is not ResultKind.IDENTITY or not name:
                continue
            ident = identifications.get(r.identification_id or 0)
            hits = ident.hits if ident is not None else []
            hit = next((h for h in hits if str(h.get("name", "")).strip().casefold() == name.casefold()), {})
            inchikey = str(hit.get("inchikey") or "")
            canonical = _canonical(name, str(hit.get("cas") or ""), inchikey)
            keys = substance_keys(normalise_name(canonical), inchikey)
            if keys:
                found.setdefault(keys[0], _Identified(keys, name))
    return [found[k] for k in sorted(found)]


def alert_first_identifications(uow: AbstractUnitOfWork, sample: Sample) -> int:
    """Inside the caller's unit of work, once the sample is approved: claim each substance its identity
    results name as first identified in the laboratory's administration and in the network, and alert
    for each claim that is new (a repeat finds the claim taken and stays quiet). New notifications."""
    if sample.state is not State.APPROVED or sample.id is None:
        return 0
    lab = uow.repo.org(sample.lab_code)
    if lab is None:
        return 0
    administration, now = lab.administration_code, uow.clock()
    substances = _identified(uow, sample)
    # Every (administration, key) claimed once, in one global order: two approvals naming the same
    # substances wait on each other, never deadlock. A substance is new where none of its keys was taken.
    wanted = sorted({(code, k) for f in substances for code in (administration, NETWORK) for k in f.keys})
    claimed = {
        (code, k): uow.first_identifications.claim(
            FirstIdentification(
                code, k, _name_of(substances, k)[:300], sample.id, sample.lab_sample_id, lab.code, now
            )
        )
        for code, k in wanted
    }
    notified = 0
    for found in substances:
        in_administration = all(claimed[(administration, k)] for k in found.keys)
        in_network = all(claimed[(NETWORK, k)] for k in found.keys)
        told: set[int] = set()
        if in_network:
            told = coordinators(uow) | staff_of(uow, administration)
            # Coordinators see figures only outside their own laboratory: the substance and where, no case.
            summary = (
                f"{found.name} identified for the first time in the network (administration {administration})"
            )
            alert = _first_alert(NETWORK, found, summary, lab.code, sample.lab_sample_id, now)
            notified += _raise(uow, alert, told)
        if in_administration:
            # Every laboratory of the administration hears of it; the case reference stays in the list,
            # for readers who see that laboratory's targeting records.
            summary = f"{found.name} identified for the first time in administration {administration}"
            summary += f" (at {lab.code})"
            alert = _first_alert(administration, found, summary, lab.code, sample.lab_sample_id, now)
            # Whoever heard of the network first hears nothing more of the same approval.
            notified += _raise(uow, alert, staff_of(uow, administration) - told)
    return notified


def _name_of(substances: list[_Identified], key: str) -> str:
    return next(f.name for f in substances if key in f.keys)


def _first_alert(
    code: str, found: _Identified, summary: str, lab: str, reference: str, now: datetime
) -> TargetingAlert:
    return TargetingAlert(
        key=first_key(code, found.key),
        rule=AlertKind.FIRST_IDENTIFICATION,
        administration_code=code,
        summary=summary,
        raised_at=now,
        substance_key=found.key,
        substance_name=found.name[:300],
        lab_code=lab,
        sample_reference=reference,
    )


# -- rules 2 and 3: rising rates and repeated importers, on a schedule ------------------------------
def _period(w: Window) -> str:
    return f"{w.start.isoformat()}/{w.end.isoformat()}"


def _labs_by_key(rows: Iterable[RateRow]) -> dict[tuple[str, ...], list[str]]:
    """Rows grouped by a selector plus `lab` (last): the laboratories with outcomes under each key."""
    out: dict[tuple[str, ...], list[str]] = {}
    for r in rows:
        out.setdefault(r.key[:-1], []).append(r.key[-1])
    return {k: sorted(set(v)) for k, v in out.items()}


def _alerted_on(uow: AbstractUnitOfWork, code: str, rule: AlertKind, **selector: str) -> list[date]:
    """The days the rule alerted for this selector of the administration."""
    return [
        a.raised_at.date()
        for a in uow.quality.find(TargetingAlert, administration_code=code, rule=rule.value, **selector)
    ]


def _candidates(
    uow: AbstractUnitOfWork, rules: AlertRules, today: date, now: datetime
) -> list[TargetingAlert]:
    """Every alert the rate and importer rules would raise today, from the outcomes' aggregates, less
    those whose rule and selector alerted within the rule's window (the same evidence, or a persisting
    condition, alerts once per window)."""
    recent, history = rate_windows(today, rules)
    window = importer_window(today, rules)
    out: list[TargetingAlert] = []
    pair: list[SelectorColumn] = ["heading", "origin"]
    for code in sorted({o.administration_code for o in uow.repo.orgs() if o.administration_code}):
        scope = TargetingScope(labs=None, administration=code)
        before = {r.key: r for r in uow.targeting.rates(scope, pair, history.start, history.end)}
        rising = [
            (r, before[r.key])
            for r in uow.targeting.rates(scope, pair, recent.start, recent.end, min_n=rules.min_recent_n)
            if r.key in before
            and rate_rises(r.k, r.n, before[r.key].k, before[r.key].n, rules)
            and not recently_alerted(
                _alerted_on(uow, code, AlertKind.RISING_RATE, heading=r.key[0], origin=r.key[1]),
                today,
                rules.recent_days,
            )
        ]
        rate_labs = _labs_by_key(uow.targeting.rates(scope, [*pair, "lab"], recent.start, recent.end))
        cases = uow.targeting.evidence(
            scope, pair, recent.start, recent.end, [r.key for r, _ in rising], EVIDENCE_PER_ALERT
        )
        for r, h in rising:
            heading, origin = r.key
            summary = (
                f"the mismatch rate of heading {heading} from {origin} rose to {r.k} of {r.n} in the last "
                f"{rules.recent_days} days, above its history of {h.k} of {h.n} ({code})"
            )
            out.append(
                TargetingAlert(
                    key=rate_key(code, heading, origin, today),
                    rule=AlertKind.RISING_RATE,
                    administration_code=code,
                    summary=summary,
                    raised_at=now,
                    heading=heading,
                    origin=origin,
                    recent_n=r.n,
                    recent_k=r.k,
                    history_n=h.n,
                    history_k=h.k,
                    period=_period(recent),
                    evidence=cases.get(r.key, []),
                    labs=rate_labs.get(r.key, []),
                )
            )
        repeated = [
            r
            # n ≥ k: an importer with fewer cases than the threshold cannot reach it.
            for r in uow.targeting.rates(
                scope, ["importer"], window.start, window.end, min_n=rules.importer_mismatches
            )
            if r.key[0].strip()
            and importer_repeats(r.k, rules)
            and not recently_alerted(
                _alerted_on(uow, code, AlertKind.REPEATED_IMPORTER, importer=r.key[0]),
                today,
                rules.importer_days,
            )
        ]
        importer_labs = _labs_by_key(
            uow.targeting.rates(scope, ["importer", "lab"], window.start, window.end)
        )
        cases = uow.targeting.evidence(
            scope, ["importer"], window.start, window.end, [r.key for r in repeated], EVIDENCE_PER_ALERT
        )
        for r in repeated:
            (importer,) = r.key
            summary = (
                f"importer {importer_token(importer)} had {r.k} of {r.n} cases differing from their "
                f"declaration in the last {rules.importer_days} days ({code})"
            )
            out.append(
                TargetingAlert(
                    key=importer_key(code, importer, today),
                    rule=AlertKind.REPEATED_IMPORTER,
                    administration_code=code,
                    summary=summary,
                    raised_at=now,
                    importer=importer,
                    recent_n=r.n,
                    recent_k=r.k,
                    period=_period(window),
                    evidence=cases.get(r.key, []),
                    labs=importer_labs.get(r.key, []),
                )
            )
    return out


def run_alert_rules(uow_factory: UnitOfWorkFactory, rules: AlertRules) -> AlertRun:
    """Raise today's rising-rate and repeated-importer alerts not raised yet, each in its own
    transaction: of two runs at once, the one that loses an alert's unique key leaves it to the other."""
    with uow_factory() as uow:
        now = uow.clock()
        candidates = [
            a
            for a in _candidates(uow, rules, now.date(), now)
            if not uow.quality.find(TargetingAlert, key=a.key)
        ]
    raised: list[str] = []
    notified = 0
    for alert in candidates:
        rule = alert.rule  # read before its session closes
        try:
            with uow_factory() as uow:
                uow.act_as(RULES_ACTOR)
                if uow.quality.find(TargetingAlert, key=alert.key):
                    continue
                told = _raise(uow, alert, overseers(uow, alert.administration_code, alert.labs))
                uow.commit()
        except Conflict:
            continue  # raised by a concurrent run a moment ago
        raised.append(rule)
        notified += told
    rising = raised.count(AlertKind.RISING_RATE)
    return AlertRun(rising_rates=rising, repeated_importers=len(raised) - rising, notified=notified)


# -- reading them ----------------------------------------------------------------------------------
def visible_alerts(uow: AbstractUnitOfWork, actor: Actor, query: AlertQuery) -> list[AlertView]:
    """The alerts I may see, newest first: my administration's (managers, reviewers, administrators) and
    the network-first identifications (network coordinators). A rate or importer alert carries the
    evidence labs' case references (and an importer, declaration data): it is listed only when I see the
    targeting records of every evidence lab (`orgs_seen`, Kind.TARGETING). A first identification names
    its laboratory only to readers of that laboratory's administration, and its sample only to those who
    see that laboratory's targeting records."""
    with acting(uow, actor, Action.VIEW_TARGETING):
        org = uow.repo.org(actor.org_code)
        mine = org.administration_code if org is not None else None
        directory = uow.repo.directory()
        seen = orgs_seen(actor, Kind.TARGETING, directory)
        codes: list[str] = []
        if mine and actor.has(Role.LAB_MANAGER, Role.REVIEWER, Role.ADMIN):
            codes.append(mine)
        if actor.has(Role.NETWORK_COORDINATOR):
            codes.append(NETWORK)
        found = [a for code in codes for a in uow.quality.find(TargetingAlert, administration_code=code)]
        if query.rule is not None:
            found = [a for a in found if a.rule == query.rule]
        found = [
            a for a in found if a.rule == AlertKind.FIRST_IDENTIFICATION or (a.labs and set(a.labs) <= seen)
        ]
        found.sort(key=lambda a: (a.raised_at, a.id or 0), reverse=True)
        out: list[AlertView] = []
        for a in found[: query.limit]:
            at_lab = bool(mine) and directory.administration_of.get(a.lab_code) == mine
            out.append(
                AlertView.of_record(
                    a,
                    importer=a.importer if a.administration_code == mine else None,
                    lab_code=a.lab_code if at_lab else "",
                    sample_reference=a.sample_reference if at_lab and a.lab_code in seen else "",
                )
            )
        return out
