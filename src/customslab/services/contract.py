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
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import JsonSchemaValue

from customslab.domain.codes import normalise_country, normalise_currency
from customslab.domain.errors import FieldError, ValidationFailed
from customslab.hs.quantities import QuantityError, check_result_unit, sample_unit

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
        if not str(value).strip():
            return f"{name} is required."
        if any(c < " " or c == "\x7f" for c in str(value)):
            # The value stays out of the sentence: its line breaks would break the message too.
            return f"{name} must be one line, without tabs or other control characters."
        return f"{name} '{value}' is not in the expected form."
    if kind == "extra_forbidden":
        return f"'{label}' is not a field here."
    msg = str(e.get("msg", "is not valid")).removeprefix("Value error, ")
    if msg.startswith(("must ", "cannot ")):
        return f"{name} {msg}."
    # Domain rules raise whole sentences; pydantic's own messages need the field's name.
    return msg if msg.endswith(".") or not label else f"{name}: {msg}."


def validation_failed(errors: list[Any]) -> ValidationFailed:
    """One ValidationFailed naming every field at fault; the first field is the one to focus."""
    faults: list[FieldError] = []
    for e in errors:
        loc = tuple(p for p in e.get("loc", ()) if p not in ("body", "query", "path", "form"))
        # A constrained or annotated type adds its own name to the location; the field is what matters.
        label = ".".join(str(p) for p in loc if not str(p).startswith(("function-", "constrained-")))
        faults.append(FieldError(label or None, _sentence(e, label.rsplit(".", 1)[-1] if label else "")))
    if not faults:
        return ValidationFailed("The input is not valid.")
    return ValidationFailed.of(faults)


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
    the length is checked on what remains, and NUL characters are refused. A `single_line` text (an id
    that ends up in a file name, an e-mail subject or a label) refuses every control character."""

    max_length: int
    min_length: int = 0
    single_line: bool = False

    def __iter__(self) -> Iterator[object]:
        # The pattern states in the schema what the validators enforce: no NUL (no control character at
        # all on a single line), and a required text must hold more than white space (it is stripped
        # before its length is checked).
        bad = r"\x00-\x1f\x7f" if self.single_line else r"\x00"
        pattern = rf"^[^{bad}]*[^\s{bad}][^{bad}]*$" if self.min_length else rf"^[^{bad}]*$"
        yield from StringConstraints(
            strip_whitespace=True, max_length=self.max_length, min_length=self.min_length, pattern=pattern
        )


def _not_a_flag(value: Any) -> Any:
    # Pydantic reads true as 1; an id given as true or false is a mistake, not record 1.
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


#: A database id: a whole number, positive and within the integer range of both databases.
Id = Annotated[int, Field(ge=1, le=MAX_INT), BeforeValidator(_not_a_flag)]


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


#: Years a laboratory's dates fall in; 0001-01-01 or 9999-12-31 is a typing mistake or a placeholder,
#: and would overflow what the databases and the reports do with dates.
FIRST_YEAR, LAST_YEAR = 1900, 2199
# The same bound in the schema. The patterns spell out the whole value, as the formats "date" and
# "date-time" (RFC 3339) do, so that a client or a fuzzer drawing from a pattern draws dates.
_YEAR = r"(?:19|20|21)[0-9]{2}"
_DATE = rf"{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = rf"^{_DATE}$"
MOMENT_PATTERN = (
    rf"^{_DATE}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{1,6}})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)

When = TypeVar("When", date, datetime)


def _sane_year(value: When) -> When:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must fall between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


@dataclass(frozen=True)
class _InSchema:
    """Adds `pattern` to the JSON schema of a date or a moment (FIRST_YEAR..LAST_YEAR)."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, core_schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


#: A calendar date, written YYYY-MM-DD, in the years FIRST_YEAR to LAST_YEAR.
Day = Annotated[date, BeforeValidator(_not_a_number), AfterValidator(_sane_year), _InSchema(DATE_PATTERN)]
#: A moment, written ISO 8601 (2026-11-29T09:30:00+09:00), in the years FIRST_YEAR to LAST_YEAR.
Moment = Annotated[
    datetime, BeforeValidator(_not_a_number), AfterValidator(_sane_year), _InSchema(MOMENT_PATTERN)
]
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


def _unit_rule(check: Callable[[str], str]) -> Callable[[str], str]:
    """A unit check of `hs.quantities` inside pydantic; an empty unit is left to the command's rules."""

    def rule(value: str) -> str:
        if not value:
            return value
        try:
            return check(value)
        except QuantityError as exc:
            raise ValueError(str(exc)) from None

    return rule


#: The unit of a sample's quantity: a mass or a volume pint knows (g, kg, mL, L) up to a tonne or a
#: cubic metre, or a count (pieces, bottles...; `hs.quantities.COUNT_WORDS`); see `sample_unit`.
SampleUnit = Annotated[
    str,
    Text(20, 1),
    AfterValidator(_unit_rule(sample_unit)),
    Field(
        description="A mass (g, kg), a volume (mL, L) or a count (pieces, bottles, cans, bags...); "
        "UN/ECE Recommendation 20 codes (KGM, LTR, H87) are read too."
    ),
]
#: The unit of a measured value: any unit pint reads, written as laboratories write it (%, % m/m,
#: %vol, mg/kg, °Z, 1 for a ratio), or a conventional scale (EBC, pH...; `hs.quantities.LAB_SCALES`).
MeasurementUnit = Annotated[str, Text(40), AfterValidator(_unit_rule(check_result_unit))]
