"""The typed contract the use cases share with every edge: commands in, views out.

A command is validated once, where it enters (a JSON body, a web form, CLI options); the service then
trusts its types and applies only the rules of the domain. A view is what a use case returns; the API
serialises it as its response model, the pages and the CLI render the same object.

Field types that several commands share (bounded text, exact decimals, ISO codes, database ids) are
declared here once, so a rule such as "an id fits the database's integer" is written in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self, TypeVar

import pycountry
from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic import ValidationError as PydanticValidationError

from customslab.domain.codes import normalise_country, normalise_currency
from customslab.domain.errors import ValidationFailed

#: The largest id or count PostgreSQL's INTEGER and SQLite's rowid both hold.
MAX_INT = 2**31 - 1
#: Measured values and money beyond this are typing mistakes, not measurements.
MAX_DECIMAL = Decimal("1e15")


class Command(BaseModel):
    """Input to one use case: immutable, no unknown fields, validated on construction."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class View(BaseModel):
    """Output of a use case: the single object the API, the pages and the CLI render.

    A view reads a domain record's attributes of the same names (`from_attributes`, nested views
    included), so a field the record stores is declared once, on the view; `of_record` adds the rest.
    """

    model_config = ConfigDict(
        frozen=True, populate_by_name=True, ser_json_timedelta="float", from_attributes=True
    )

    @classmethod
    def of_record(cls, record: object, /, **given: Any) -> Self:
        """The view of `record`: each field from the attribute of the same name, unless `given` names it
        (a derived value, or an attribute the record calls otherwise)."""
        read = {
            name: getattr(record, name)
            for name in cls.model_fields.keys() - given.keys()
            if hasattr(record, name)
        }
        return cls.model_validate(read | given)


C = TypeVar("C", bound=BaseModel)
R = TypeVar("R")


def record_of(cls: type[R], fields: BaseModel | Mapping[str, Any], /, **given: Any) -> R:
    """The domain record (a dataclass) a command describes: the command's fields the record declares,
    by name, then `given`, what the use case decides (a number, the clock, a normalised value)."""
    names = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    return cls(**({k: v for k, v in dict(fields).items() if k in names} | given))


def parse(cls: type[C], data: Mapping[str, Any]) -> C:
    """Build `cls` from untyped input (a form, CLI options); errors become one plain-language message.

    Empty form fields mean "not given", so they are dropped and the command's defaults apply.
    """
    given = {k: v for k, v in data.items() if v not in ("", None)}
    try:
        return cls.model_validate(given)
    except PydanticValidationError as exc:
        raise validation_failed(exc.errors()) from None


def _sentence(e: Mapping[str, Any], label: str) -> str:
    """Pydantic's error as a sentence a customs officer or analyst reads without help."""
    kind, ctx, value = str(e.get("type", "")), e.get("ctx") or {}, e.get("input")
    name = label.replace("_", " ").capitalize() or "The input"
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return f"{name} is required."
    if kind == "string_too_short":
        return f"{name} needs at least {ctx.get('min_length')} characters."
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        unit = "characters" if kind == "string_too_long" else "entries"
        return f"{name} is too long: at most {limit} {unit}."
    if kind in ("enum", "literal_error"):
        allowed = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"'{value}' is not a valid {label.replace('_', ' ')}; choose one of: {allowed}."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        bound = next(iter(ctx.values()), "")
        return f"{name} must be {words} {bound}."
    if kind in ("decimal_parsing", "float_parsing", "int_parsing", "int_from_float", "decimal_type"):
        return f"{name} '{value}' is not a {'whole ' if kind.startswith('int') else ''}number."
    if kind.startswith(("date_", "datetime_")):
        return f"{name} '{value}' is not a date (YYYY-MM-DD)."
    if kind == "string_pattern_mismatch":
        if "\x00" in str(value):
            return f"{name} must not contain a NUL character."
        return (
            f"{name} is required."
            if not str(value).strip()
            else f"{name} '{value}' is not in the expected form."
        )
    if kind == "extra_forbidden":
        return f"'{label}' is not a field here."
    msg = str(e.get("msg", "is not valid")).removeprefix("Value error, ")
    if msg.startswith(("must ", "cannot ")):
        return f"{name} {msg}."
    # Domain rules raise whole sentences; pydantic's own messages need the field's name.
    return msg if msg.endswith(".") or not label else f"{name}: {msg}."


def validation_failed(errors: list[Any]) -> ValidationFailed:
    """One ValidationFailed naming every field at fault; the first field is the one to focus."""
    parts: list[str] = []
    first: str | None = None
    for e in errors:
        loc = tuple(p for p in e.get("loc", ()) if p not in ("body", "query", "path", "form"))
        # A constrained or annotated type adds its own name to the location; the field is what matters.
        label = ".".join(str(p) for p in loc if not str(p).startswith(("function-", "constrained-")))
        first = first or label or None
        parts.append(_sentence(e, label.rsplit(".", 1)[-1] if label else ""))
    return ValidationFailed(" ".join(parts) or "The input is not valid.", first)


def _domain_rule(fn: Any) -> Any:
    """Run a domain normaliser inside pydantic: its ValidationFailed becomes a field error."""

    def check(value: Any) -> Any:
        try:
            return fn(value)
        except ValidationFailed as exc:
            raise ValueError(exc.message) from None

    return check


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """Bounds of a text field, used as `Annotated[str, Text(200)]`: surrounding white space is dropped,
    the length is checked on what remains, and NUL characters are refused."""

    max_length: int
    min_length: int = 0

    def __iter__(self) -> Iterator[object]:
        # The pattern states in the schema what the validators enforce: no NUL, and a required text
        # must hold more than white space (it is stripped before its length is checked).
        pattern = r"^[^\x00]*[^\s\x00][^\x00]*$" if self.min_length else r"^[^\x00]*$"
        yield from StringConstraints(
            strip_whitespace=True, max_length=self.max_length, min_length=self.min_length, pattern=pattern
        )


#: A database id: positive and within the integer range of both databases.
Id = Annotated[int, Field(ge=1, le=MAX_INT)]


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if abs(value) >= MAX_DECIMAL:
        raise ValueError(f"must be smaller than {MAX_DECIMAL:.0e} in size")
    return value


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("cannot be negative")
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _decimal_comma(value: Any) -> Any:
    return value.strip().replace(",", ".") if isinstance(value, str) else value


@dataclass(frozen=True)
class Exact(GroupedMetadata):
    """An exact decimal, used as `Annotated[Decimal, Exact()]`: "0,5" is read as 0.5 (forms and CSV files
    from Korean and European locales write both), the value must be finite and smaller than MAX_DECIMAL
    in size, and `floor` adds a lower bound that `bound` states in the schema.

    The schema documents a JSON number with its real bounds; strings are accepted too, so that exact
    values need not pass through a float (a float is taken through its shortest repr).
    """

    floor: Callable[[Decimal], Decimal] | None = None
    bound: tuple[str, float] = ("exclusiveMinimum", -float(MAX_DECIMAL))

    def __iter__(self) -> Iterator[object]:
        yield BeforeValidator(_decimal_comma)
        yield AfterValidator(_finite)
        if self.floor is not None:
            yield AfterValidator(self.floor)
        yield WithJsonSchema(
            {"type": "number", "exclusiveMaximum": float(MAX_DECIMAL), self.bound[0]: self.bound[1]}
        )


#: An exact measured value or amount.
Amount = Annotated[Decimal, Exact()]
NonNegative = Annotated[Decimal, Exact(_non_negative, ("minimum", 0))]
Positive = Annotated[Decimal, Exact(_positive, ("exclusiveMinimum", 0))]


def _not_a_number(value: Any) -> Any:
    # JSON has no date type: a date is text (2026-11-29); a number is not silently read as 1970 + n.
    # Pydantic would also read "1732838400" as a Unix time; nobody writes a date that way.
    numeric = isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    if numeric or (isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
        raise ValueError("must be a date written YYYY-MM-DD (a moment: YYYY-MM-DDThh:mm)")
    return value


_FLAG_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _flag(value: Any) -> Any:
    # JSON booleans, and the words a form or a command line sends; 0, 1 and other values are refused.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
        return _FLAG_WORDS[value.strip().lower()]
    raise ValueError("must be true or false")


#: A calendar date, written YYYY-MM-DD.
Day = Annotated[date, BeforeValidator(_not_a_number)]
#: A moment, written ISO 8601 (2026-11-29T09:30:00+09:00).
Moment = Annotated[datetime, BeforeValidator(_not_a_number)]
#: Yes or no.
Flag = Annotated[bool, BeforeValidator(_flag)]


def _exactly(normalise: Any) -> Any:
    """An ISO code exactly as the schema lists it; forms upper-case what people type before parsing."""

    def check(value: str) -> str:
        code = _domain_rule(normalise)(value)
        if code != value:
            raise ValueError(f"'{value}' must be written in capitals, as {code}.")
        return str(code)

    return check


COUNTRY_CODES = sorted(c.alpha_2 for c in pycountry.countries)
CURRENCY_CODES = sorted(c.alpha_3 for c in pycountry.currencies)
#: ISO 3166-1 alpha-2, upper case.
Country = Annotated[
    str,
    AfterValidator(_exactly(normalise_country)),
    WithJsonSchema({"type": "string", "enum": COUNTRY_CODES}),
]
#: ISO 4217 alphabetic code, upper case.
Currency = Annotated[
    str,
    AfterValidator(_exactly(normalise_currency)),
    WithJsonSchema({"type": "string", "enum": CURRENCY_CODES}),
]
