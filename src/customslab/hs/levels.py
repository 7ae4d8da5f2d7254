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


def open_below(decided: str, declared: str) -> list[str]:
    """The levels of a declared code that a decision at the level of `decided` leaves open:
    ['subheading'], ['heading', 'subheading'], ['subheading', 'national tariff line'], or []."""
    if len(decided) >= len(declared):
        return []
    below = [name for digits, name in LEVELS.items() if len(decided) < digits <= len(declared)]
    return [*below, NATIONAL] if len(declared) > 6 else below


def common_level(codes: list[str]) -> str:
    """The most precise chapter, heading or subheading that holds every code ('' when none does):
    ['2203', '2208'] → '22'; ['170112', '170114'] → '1701'; ['3403', '3824'] → ''."""
    if not codes:
        return ""
    for digits in (6, 4, 2):
        if all(len(c) >= digits and c[:digits] == codes[0][:digits] for c in codes):
            return codes[0][:digits]
    return ""
