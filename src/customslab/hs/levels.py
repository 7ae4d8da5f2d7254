"""The level of an HS code (chapter, heading, subheading, national line) and how people write it.

A code is only as precise as what decided it: a rule that places goods in heading 22.08 says nothing
about the subheading, so the code is written "heading 22.08", never "2208.30". These helpers give the
words for a code at its own level.
"""

from __future__ import annotations

#: The level of a code by its number of digits; 8 to 10 digits are a national tariff line.
LEVELS = {2: "chapter", 4: "heading", 6: "subheading"}
NATIONAL = "national tariff line"


def level_of(code: str) -> str:
    """'22' → chapter, '2208' → heading, '220840' → subheading, longer → national tariff line."""
    return LEVELS.get(len(code), NATIONAL)


def dotted(code: str) -> str:
    """The code as the nomenclature prints it: 22, 22.08, 2208.40, 2208.40.1000."""
    if len(code) <= 2:
        return code
    if len(code) <= 4:
        return f"{code[:2]}.{code[2:]}"
    if len(code) <= 6:
        return f"{code[:4]}.{code[4:]}"
    return f"{code[:4]}.{code[4:6]}.{code[6:]}"


def at_level(code: str) -> str:
    """'2208' → 'heading 22.08'; '220840' → 'subheading 2208.40'."""
    return f"{level_of(code)} {dotted(code)}"


def undecided_below(decided: str, declared: str) -> str:
    """What a decision at the level of `decided` leaves open of a declared code, in words ('' when
    nothing): 'the subheading', 'the heading and the subheading', 'the national tariff line'."""
    if len(decided) >= len(declared):
        return ""
    below = [name for digits, name in LEVELS.items() if len(decided) < digits <= len(declared)]
    if len(declared) > 6:
        below.append(NATIONAL)
    return "the " + " and the ".join(below) if below else ""
