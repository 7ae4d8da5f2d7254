"""The targeting outcomes in SQL: an upsert per decided sample, and every figure as one GROUP BY.

The rates over a million outcomes are computed by the database (counts, the number differing, the sum of
known duty differences); Python only receives one row per group.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from customslab.adapters.hs_store import national_tariff_editions, national_tariff_lines
from customslab.adapters.orm import classification_opinions
from customslab.adapters.targeting_tables import targeting_outcomes as t
from customslab.domain.targeting import party_key
from customslab.hs.tariff import TariffLine
from customslab.services.targeting_ports import (
    DECLARATION_COLUMNS,
    Outcome,
    PartyColumn,
    RateRow,
    SelectorColumn,
    TargetingRepository,
    TargetingScope,
)

_COLUMN = {
    "heading": t.c.heading,
    "origin": t.c.origin,
    "importer": t.c.importer,
    "declarant": t.c.declarant,
    "month": t.c.month,
    "lab": t.c.lab_code,
}
_CENT = Decimal("0.01")
#: Up to this many distinct first-column values, evidence is read for those values only.
EVIDENCE_NARROWING = 50


def to_cents(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount.quantize(_CENT) * 100)


def from_cents(cents: int | None) -> Decimal | None:
    # Exact: the integer's digits with the point moved two places ("0.00" for 0), no division to round.
    return None if cents is None else Decimal(cents).scaleb(-2)


def outcome_row(o: Outcome) -> dict[str, Any]:
    """The table row of an outcome (also what a bulk loader inserts)."""
    return {
        "sample_id": o.sample_id,
        "reference": o.reference,
        "lab_code": o.lab_code,
        "administration_code": o.administration_code,
        "declared_hs": o.declared_hs,
        "determined_hs": o.determined_hs,
        "heading": o.heading,
        "differs": o.differs,
        "origin": o.origin,
        "importer": o.importer,
        "declarant": o.declarant,
        "importer_key": party_key(o.importer),
        "declarant_key": party_key(o.declarant),
        "decided_on": o.decided_on,
        "month": o.decided_on.strftime("%Y-%m"),
        "customs_value": o.customs_value,
        "currency": o.currency,
        "duty_difference_cents": to_cents(o.duty_difference),
    }


def _where(
    scope: TargetingScope, selector: Sequence[SelectorColumn], start: date, end: date
) -> list[ColumnElement[bool]]:
    found = [t.c.decided_on >= start, t.c.decided_on <= end]
    if scope.labs is not None:
        found.append(t.c.lab_code.in_(sorted(scope.labs)))
    if scope.administration is not None:
        found.append(t.c.administration_code == scope.administration)
    # An outcome without an importer (or declarant) on its request is not a group of its own.
    found.extend(_COLUMN[c] != "" for c in selector if c in DECLARATION_COLUMNS)
    return found


def _rolled_up(
    rows: list[RateRow], finer: Sequence[SelectorColumn], coarser: Sequence[SelectorColumn]
) -> list[RateRow]:
    """The rates by `coarser` added up from those by `finer`, whose columns include its own: n, k, the
    duty differences (exact decimals of cents) and the cases whose difference is known are sums."""
    places = [list(finer).index(c) for c in coarser]
    sums: dict[tuple[str, ...], list[Any]] = {}
    for r in rows:
        key = tuple([r.key[i] for i in places])
        total = sums.get(key)
        if total is None:
            sums[key] = [r.n, r.k, r.duty_difference_sum, r.duty_known_n]
        else:
            total[0] += r.n
            total[1] += r.k
            total[2] += r.duty_difference_sum
            total[3] += r.duty_known_n
    return [
        RateRow(key=key, n=n, k=k, duty_difference_sum=duty, duty_known_n=known)
        for key, (n, k, duty, known) in sums.items()
    ]


class SqlTargetingRepository(TargetingRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def record(self, outcome: Outcome) -> None:
        # Delete-then-insert is the one upsert both databases run the same way; the outcome is a
        # projection rebuilt from the case records, so nothing else refers to the row.
        self.session.execute(delete(t).where(t.c.sample_id == outcome.sample_id))
        self.session.execute(insert(t).values(**outcome_row(outcome)))

    def forget(self, sample_id: int) -> None:
        self.session.execute(delete(t).where(t.c.sample_id == sample_id))

    def forget_all(self, sample_ids: Collection[int]) -> None:
        if sample_ids:
            self.session.execute(delete(t).where(t.c.sample_id.in_(sorted(set(sample_ids)))))

    def clear(self) -> None:
        self.session.execute(delete(t))

    def decided_sample_ids(self) -> list[int]:
        o = classification_opinions.c
        query = select(o.sample_id).where(o.state == "approved").distinct().order_by(o.sample_id)
        return [int(i) for i in self.session.execute(query).scalars()]

    def tariff_lines(self, country: str, codes: Collection[str]) -> list[TariffLine]:
        e, lines = national_tariff_editions.c, national_tariff_lines.c
        edition = self.session.execute(
            select(e.edition)
            .where(e.country == country.upper())
            .order_by(e.loaded_at.desc(), e.edition.desc())
            .limit(1)
        ).scalar()
        wanted = [c for c in codes if c]
        if edition is None or not wanted:
            return []
        query = select(national_tariff_lines).where(
            lines.country == country.upper(),
            lines.edition == edition,
            or_(*[lines.code.startswith(c, autoescape=True) for c in wanted]),
        )
        return [
            TariffLine(r.code, r.description, r.ad_valorem, r.specific, r.specific_unit, r.unit)
            for r in self.session.execute(query.order_by(lines.code))
        ]

    def get(self, sample_id: int) -> Outcome | None:
        row = self.session.execute(select(t).where(t.c.sample_id == sample_id)).mappings().first()
        if row is None:
            return None
        return Outcome(
            sample_id=row["sample_id"],
            reference=row["reference"],
            lab_code=row["lab_code"],
            administration_code=row["administration_code"],
            declared_hs=row["declared_hs"],
            determined_hs=row["determined_hs"],
            heading=row["heading"],
            differs=bool(row["differs"]),
            origin=row["origin"],
            importer=row["importer"],
            declarant=row["declarant"],
            decided_on=row["decided_on"],
            customs_value=row["customs_value"],
            currency=row["currency"],
            duty_difference=from_cents(row["duty_difference_cents"]),
        )

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(t)).scalar_one())

    def spelling(self, administration: str, column: PartyColumn, key: str) -> str | None:
        keyed = t.c.importer_key if column == "importer" else t.c.declarant_key
        query = (
            select(_COLUMN[column])
            .where(t.c.administration_code == administration, keyed == key)
            .order_by(t.c.sample_id)
            .limit(1)
        )
        found = self.session.execute(query).scalar()
        return None if found is None else str(found)

    def rates(
        self,
        scope: TargetingScope,
        selector: Sequence[SelectorColumn],
        start: date,
        end: date,
        *,
        min_n: int = 1,
    ) -> list[RateRow]:
        cols = [_COLUMN[c] for c in selector]
        n = func.count()
        query = (
            select(
                *cols,
                n,
                func.sum(case((t.c.differs, 1), else_=0)),
                func.sum(t.c.duty_difference_cents),
                func.count(t.c.duty_difference_cents),
            )
            .where(*_where(scope, selector, start, end))
            .group_by(*cols)
            .having(n >= max(min_n, 1))
            .order_by(*cols)
        )
        width = len(cols)
        return [
            RateRow(
                key=tuple(str(v) for v in row[:width]),
                n=int(row[width]),
                k=int(row[width + 1] or 0),
                duty_difference_sum=from_cents(int(row[width + 2] or 0)) or Decimal("0.00"),
                duty_known_n=int(row[width + 3]),
            )
            # all(): one fetch of every group rather than a call per row (tens of thousands of importers).
            for row in self.session.execute(query).all()
        ]

    def rates_many(
        self,
        scope: TargetingScope,
        selectors: Sequence[Sequence[SelectorColumn]],
        start: date,
        end: date,
    ) -> list[list[RateRow]]:
        # PostgreSQL reads the period once for every grouping (GROUPING SETS), where one query per
        # selector would read it once each: the figures over a million outcomes in one scan.
        if not self._postgres() or len(selectors) < 2:
            return super().rates_many(scope, selectors, start, end)
        # A grouping that a finer one without a declaration column contains (the heading and the origin
        # in heading × origin, the total in the months) is added up below from the finer one's rows —
        # exactly: counts and cents — rather than by the database, where every grouping set costs every
        # outcome one more hash lookup and four more aggregates (a quarter of the query's time at 1M).
        kinds = [frozenset(s) for s in selectors]
        whole = [k for k in kinds if not DECLARATION_COLUMNS & k]
        asked = [n for n, k in enumerate(kinds) if not any(k < other for other in whole)]
        used = list(dict.fromkeys(c for n in asked for c in selectors[n]))
        cols = [_COLUMN[c] for c in used]
        # GROUPING(a, b, ...) has a bit set (first column highest) for each column a set leaves out.
        grouping = func.grouping(*cols) if cols else None
        sets = func.grouping_sets(*[tuple_(*[_COLUMN[c] for c in selectors[n]]) for n in asked])
        query = (
            select(
                *cols,
                grouping if grouping is not None else literal(0),
                func.count(),
                func.sum(case((t.c.differs, 1), else_=0)),
                func.sum(t.c.duty_difference_cents),
                func.count(t.c.duty_difference_cents),
            )
            .where(*_where(scope, (), start, end))
            .group_by(sets)
        )
        width = len(cols)
        bits = {
            sum(1 << (width - 1 - i) for i, c in enumerate(used) if c not in selectors[n]): n for n in asked
        }
        # Tens of thousands of groups come back (every importer): each one's key positions and whether it
        # names a declaration column are worked out once per grouping, not once per row.
        places = [[used.index(c) for c in s] for s in selectors]
        declared = [[used.index(c) for c in s if c in DECLARATION_COLUMNS] for s in selectors]
        found: list[list[RateRow]] = [[] for _ in selectors]
        for row in self.session.execute(query).all():
            which = bits.get(int(row[width]))
            if which is None:
                continue
            # An outcome without an importer (or declarant) is not a group of its own (as in `_where`).
            if any(row[i] == "" for i in declared[which]):
                continue
            found[which].append(
                RateRow(
                    key=tuple([str(row[i]) for i in places[which]]),
                    n=int(row[width + 1]),
                    k=int(row[width + 2] or 0),
                    duty_difference_sum=Decimal(int(row[width + 3] or 0)).scaleb(-2),
                    duty_known_n=int(row[width + 4]),
                )
            )
        for n, kind in enumerate(kinds):
            if n not in asked:
                # From the finer asked grouping with the fewest rows (the months for the total).
                finer = min(
                    (m for m in asked if kind < kinds[m] and kinds[m] in whole), key=lambda m: len(found[m])
                )
                found[n] = _rolled_up(found[finer], selectors[finer], selectors[n])
        for rows in found:
            rows.sort(key=lambda r: r.key)
        return found

    def monthly(
        self,
        scope: TargetingScope,
        selector: Sequence[SelectorColumn],
        start: date,
        end: date,
    ) -> list[RateRow]:
        return self.rates(scope, ("month", *[c for c in selector if c != "month"]), start, end)

    def evidence(
        self,
        scope: TargetingScope,
        selector: Sequence[SelectorColumn],
        start: date,
        end: date,
        keys: Collection[tuple[str, ...]],
        per_key: int = 5,
    ) -> dict[tuple[str, ...], list[str]]:
        wanted = set(keys)
        if not wanted or not selector:
            return {}
        cols = [_COLUMN[c] for c in selector]
        where = [and_(*_where(scope, selector, start, end)), t.c.differs.is_(True)]
        # A handful of keys: narrow by the first column's values before ranking, so that only their
        # groups are read. Many keys: rank every differing outcome of the period once (a long IN list
        # costs more than it saves).
        first = sorted({k[0] for k in wanted})
        if len(first) <= EVIDENCE_NARROWING:
            where.append(cols[0].in_(first))
        # The partition's order is only a grouping: byte order spares PostgreSQL the locale's collation.
        parts = [c.collate("C") for c in cols] if self._postgres() else cols
        rank = (
            func.row_number()
            .over(partition_by=parts, order_by=(t.c.decided_on.desc(), t.c.sample_id.desc()))
            .label("rank")
        )
        ranked = select(*cols, t.c.reference, rank).where(*where).subquery()
        width = len(cols)
        query = select(ranked).where(ranked.c.rank <= per_key)
        found: dict[tuple[str, ...], list[tuple[int, str]]] = {}
        for row in self.session.execute(query).all():
            key = tuple(map(str, row[:width]))
            if key in wanted:
                found.setdefault(key, []).append((int(row[width + 1]), row[width]))
        return {key: [ref for _, ref in sorted(refs)] for key, refs in found.items()}

    def currencies(self, scope: TargetingScope, start: date, end: date) -> list[str]:
        query = (
            select(t.c.currency)
            .where(*_where(scope, (), start, end), t.c.duty_difference_cents.is_not(None))
            .distinct()
            .order_by(t.c.currency)
        )
        return [str(c) for c in self.session.execute(query).scalars()]
