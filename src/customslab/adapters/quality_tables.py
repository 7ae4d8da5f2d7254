"""Tables of the ISO/IEC 17025 quality records, derived from the entry classes, and their mapping.

Each entry class of `services.quality_ports` declares its table: a column per field, named as the field,
typed from its annotation (`Size`, `Ref` add length, key and index). Identity, ownership and lookup keys
are real columns; the frozen domain value each entry wraps is one JSON column, encoded field by field
from the dataclass's type hints, so the audit hook (which covers every table in `QUALITY_TABLE_NAMES`)
records before/after values in full. The layout is the one migration 0004 created.
"""

from __future__ import annotations

import dataclasses
import types
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from customslab.adapters.tables_base import metadata, row_version
from customslab.adapters.types import UTCDateTime
from customslab.domain.plain import from_plain, to_plain
from customslab.services import quality_ports as q
from customslab.services.knowledge_ports import KNOWLEDGE_ENTRIES
from customslab.services.quality_ports import Ref, Size
from customslab.services.result_import_ports import IMPORT_ENTRIES
from customslab.services.substance_ports import SUBSTANCE_ENTRIES
from customslab.services.targeting_alert_ports import TARGETING_ALERT_ENTRIES
from customslab.services.training_ports import TRAINING_ENTRIES


class DomainJson(TypeDecorator[Any]):
    """A frozen domain value (or a tuple of them) stored as JSON and rebuilt on load."""

    impl = JSON
    cache_ok = True

    def __init__(self, value_type: Any) -> None:
        super().__init__()
        self.value_type = value_type

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else to_plain(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else from_plain(self.value_type, value)


def _unwrap(hint: Any) -> tuple[Any, tuple[Any, ...], bool]:
    """A field's type without `| None` and `Annotated`: (type, annotations, nullable)."""
    extras: tuple[Any, ...] = ()
    nullable = False
    while True:
        if get_origin(hint) is Annotated:
            extras += tuple(hint.__metadata__)
            hint = get_args(hint)[0]
        elif get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint):
            nullable = True
            options = [a for a in get_args(hint) if a is not type(None)]
            hint = options[0] if len(options) == 1 else Any
        else:
            return hint, extras, nullable


def _sql_type(hint: Any, size: Size | None, ref: Ref | None) -> Any:
    if ref is not None:
        return String(ref.length) if ref.length else Integer
    if size is not None:
        return String(size.length)
    if dataclasses.is_dataclass(hint) or get_origin(hint) is tuple:
        return DomainJson(hint)
    if get_origin(hint) in (list, dict):
        return JSON
    return {str: Text, int: Integer, bool: Boolean, datetime: UTCDateTime}[hint]


def _column(name: str, hint: Any) -> Column[Any]:
    tp, extras, nullable = _unwrap(hint)
    if name == "id":
        return Column("id", Integer, primary_key=True, autoincrement=True)
    size = next((x for x in extras if isinstance(x, Size)), None)
    ref = next((x for x in extras if isinstance(x, Ref)), None)
    return Column(
        name,
        _sql_type(tp, size, ref),
        *([ForeignKey(ref.target)] if ref else []),
        nullable=nullable,
        index=bool((ref and ref.index) or (size and size.index)) or None,
        unique=bool(size and size.unique) or None,
    )


def table_of(entry: type[Any]) -> Table:
    """The table an entry class declares: one column per field, named and typed as the field."""
    hints = get_type_hints(entry, include_extras=True)
    columns = [_column(f.name, hints[f.name]) for f in dataclasses.fields(entry)]
    unique: q.Unique | None = getattr(entry, "unique", None)
    rules = [UniqueConstraint(*unique.columns, name=unique.name)] if unique else []
    return Table(entry.stored_in, metadata, *columns, row_version(), *rules)


#: The instrument mappings of result import (migration 0010) and the national lists of controlled
#: substances (0011) are records of the same shape.
TABLE_OF: dict[type[Any], Table] = {
    cls: table_of(cls)
    for cls in (
        *q.QUALITY_ENTRIES,
        *IMPORT_ENTRIES,
        *SUBSTANCE_ENTRIES,
        *TRAINING_ENTRIES,
        *KNOWLEDGE_ENTRIES,
        *TARGETING_ALERT_ENTRIES,
    )
}

#: Added to `orm.AUDITED`: every quality record is in the hash-chained audit trail.
QUALITY_TABLE_NAMES = frozenset(t.name for t in TABLE_OF.values())


def map_quality(reg: registry) -> None:
    """Map the quality entries onto their tables (called once from `orm.start_mappers`)."""
    for cls, table in TABLE_OF.items():
        reg.map_imperatively(cls, table, version_id_col=table.c.row_version, version_id_generator=False)


__all__ = ["QUALITY_TABLE_NAMES", "TABLE_OF", "DomainJson", "from_plain", "map_quality", "to_plain"]
