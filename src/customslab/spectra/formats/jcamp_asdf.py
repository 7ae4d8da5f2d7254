"""JCAMP-DX ASCII squeezed difference form (ASDF): decoding and encoding of (X++(Y..Y)) lines.

Written here rather than taken from a library because no maintained Python package implements the
DIF Y-value check and the error reporting (file, line) that the laboratory needs.
Reference: McDonald & Wilks, Appl. Spectrosc. 42 (1988) 151, section 5.9 (ASDF).

Accepted on a line: AFFN numbers separated by blanks, tabs, commas or semicolons, or by their own
'+'/'-' signs (PAC); E-notation in AFFN lines; SQZ, DIF and DUP characters; '?' for an ordinate that
was not measured (its point is left out; a DIF value may not follow it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from customslab.spectra.model import MAX_POINTS

SQZ_POSITIVE = "@ABCDEFGHI"
SQZ_NEGATIVE = "abcdefghi"
DIF_POSITIVE = "%JKLMNOPQR"
DIF_NEGATIVE = "jklmnopqr"
DUP_DIGITS = "STUVWXYZs"

_SQZ = {c: (1, i) for i, c in enumerate(SQZ_POSITIVE)} | {c: (-1, i + 1) for i, c in enumerate(SQZ_NEGATIVE)}
_DIF = {c: (1, i) for i, c in enumerate(DIF_POSITIVE)} | {c: (-1, i + 1) for i, c in enumerate(DIF_NEGATIVE)}
_DUP = {c: i + 1 for i, c in enumerate(DUP_DIGITS)}
# 'E'/'e' are both SQZ digits and exponent markers; a line is read as plain AFFN (where they can be
# exponents) only when it contains no other compression character.
_COMPRESSION_CHARS = frozenset(SQZ_POSITIVE + SQZ_NEGATIVE + DIF_POSITIVE + DIF_NEGATIVE + DUP_DIGITS) - {
    "E",
    "e",
}
_SEPARATORS = frozenset(" \t\f\v,;")
# Guards memory against corrupted files: a spectrum holds at most MAX_POINTS values in all.
_MAX_DUP = MAX_POINTS


class AsdfError(ValueError):
    """A line could not be decoded; the JCAMP reader adds the file name and line number."""


@dataclass(frozen=True)
class DecodedLine:
    """One (X++(Y..Y)) line: its abscissa and ordinates, and whether it ended in DIF form."""

    x: float
    ys: list[float | None]  # None: the ordinate was written as '?' (missing)
    ends_in_dif: bool


def _tokens(line: str) -> list[tuple[str, str]]:
    compressed = any(c in _COMPRESSION_CHARS for c in line)
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in _SEPARATORS:
            i += 1
            continue
        if c in _SQZ or c in _DIF or c in _DUP:
            kind = "SQZ" if c in _SQZ else "DIF" if c in _DIF else "DUP"
            j = i + 1
            while j < n and (line[j].isdigit() or (kind != "DUP" and line[j] == ".")):
                j += 1
        elif c in "+-.0123456789":
            kind = "AFFN"
            j = i + 1
            while j < n:
                d = line[j]
                if d.isdigit() or d == ".":
                    j += 1
                elif d in "Ee" and not compressed and _exponent_follows(line, j):
                    j += 2 if line[j + 1] in "+-" else 1
                else:
                    break
        elif c == "?":
            kind, j = "MISSING", i + 1
        else:
            raise AsdfError(f"unexpected character {c!r} in data")
        tokens.append((kind, line[i:j]))
        i = j
    return tokens


def _exponent_follows(line: str, j: int) -> bool:
    rest = line[j + 1 : j + 3]
    return bool(rest) and (rest[0].isdigit() or (rest[0] in "+-" and len(rest) > 1 and rest[1].isdigit()))


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise AsdfError(f"malformed number {text!r}") from None


def _digits_value(token: str, table: dict[str, tuple[int, int]]) -> float:
    sign, first = table[token[0]]
    return sign * _number(f"{first}{token[1:]}")


def decode_line(line: str) -> DecodedLine:
    """Decode one data line in AFFN or ASDF (SQZ, DIF, DUP) form into an abscissa and ordinates."""
    tokens = _tokens(line)
    if not tokens:
        raise AsdfError("empty data line")
    kind, text = tokens[0]
    if kind == "AFFN":
        x = _number(text)
    elif kind == "SQZ":
        x = _digits_value(text, _SQZ)
    else:
        raise AsdfError("a data line must start with its X value")
    ys: list[float | None] = []
    last_kind = ""
    last_dif = 0.0
    for kind, text in tokens[1:]:
        if kind == "AFFN":
            ys.append(_number(text))
        elif kind == "SQZ":
            ys.append(_digits_value(text, _SQZ))
        elif kind == "MISSING":
            ys.append(None)
        elif kind == "DIF":
            previous = ys[-1] if ys else None
            if previous is None:
                raise AsdfError(
                    "a DIF value needs a preceding Y value"
                    if not ys
                    else "a DIF value cannot follow a missing value '?'"
                )
            last_dif = _digits_value(text, _DIF)
            ys.append(previous + last_dif)
        else:
            if not ys:
                raise AsdfError("a DUP count needs a preceding Y value")
            if len(text) > 8:
                raise AsdfError(f"DUP count {text!r} is implausibly large")
            count = int(f"{_DUP[text[0]]}{text[1:]}")
            if count > _MAX_DUP:
                raise AsdfError(f"DUP count {count} is implausibly large")
            for _ in range(count - 1):
                previous = ys[-1]
                ys.append(previous + last_dif if last_kind == "DIF" and previous is not None else previous)
            continue
        last_kind = kind
    return DecodedLine(x=x, ys=ys, ends_in_dif=last_kind == "DIF")


def _encode_digits(value: int, positive: str, negative: str) -> str:
    digits = str(abs(value))
    if value < 0:
        return negative[int(digits[0]) - 1] + digits[1:]
    return positive[int(digits[0])] + digits[1:]


def _encode_dup(count: int) -> str:
    digits = str(count)
    return DUP_DIGITS[int(digits[0]) - 1] + digits[1:]


def encode_difdup(x_values: Sequence[str], ys: Sequence[int], *, max_width: int = 80) -> list[str]:
    """Encode integer ordinates as DIFDUP lines with the Y-value check; x_values[i] labels ys[i].

    Each line starts with the SQZ form of its first ordinate, which repeats the last ordinate of the
    previous line whenever that line ended in DIF form; a final check line closes the table.
    """
    lines: list[str] = []
    start = 0
    n = len(ys)
    while start < n:
        parts = [x_values[start], " ", _encode_digits(ys[start], SQZ_POSITIVE, SQZ_NEGATIVE)]
        width = sum(len(p) for p in parts)
        i = start
        while i + 1 < n:
            dif = ys[i + 1] - ys[i]
            run = 1
            while i + 1 + run < n and ys[i + 1 + run] - ys[i + run] == dif:
                run += 1
            token = _encode_digits(dif, DIF_POSITIVE, DIF_NEGATIVE)
            if run > 1:
                token += _encode_dup(run)
            if width + len(token) > max_width:
                if i == start:
                    raise ValueError("line width too small for one difference")
                break
            parts.append(token)
            width += len(token)
            i += run
        lines.append("".join(parts))
        if i == start:
            # Only one ordinate left: the line ended in SQZ form, so no check value follows.
            break
        if i == n - 1:
            lines.append(f"{x_values[i]} {_encode_digits(ys[i], SQZ_POSITIVE, SQZ_NEGATIVE)}")
            break
        start = i
    return lines


def encode_affn(x_values: Sequence[str], ys: Sequence[int], *, per_line: int = 10) -> list[str]:
    """Encode integer ordinates as plain AFFN (X++(Y..Y)) lines of at most per_line values."""
    return [
        f"{x_values[s]} " + " ".join(str(v) for v in ys[s : s + per_line])
        for s in range(0, len(ys), per_line)
    ]
