"""Lists what a Korean reader would still meet in English on the pages.

Three checks, all static, so `make test` runs them in a second and they name file and line:
- every message marked for translation (`_()`, `say()`, `N_()`) has a Korean translation that is not fuzzy;
- no template shows literal text or a literal label attribute (placeholder, title, aria-label, alt) that
  is not wrapped in `_()`;
- every vocabulary word the pages humanise and translate at run time (`_(state.replace('_', ' '))`) is
  in the catalogue, since extraction cannot see those.

Run `python -m customslab.entrypoints.web.untranslated` to print the list; tests/unit/test_translations.py
fails while it is not empty.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from customslab.domain import enums
from customslab.entrypoints.web.common import HERE, LOCALE_DIR

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "say": (2,), "N_": None}
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
#: Enums whose values the pages show as words, humanised ('in_analysis' → 'in analysis') and translated.
VOCABULARIES: tuple[type[Enum], ...] = (
    enums.State,
    enums.Reason,
    enums.Priority,
    enums.Role,
    enums.CustodyKind,
    enums.ReferralKind,
    enums.ReferralState,
    enums.ResultKind,
)
#: Attributes a person reads or hears (screen readers): their literal values must be translated too.
SPOKEN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "hx-confirm")
_JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
_TAG = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->|<[^>]*>", re.S | re.I)
_ATTRIBUTE = re.compile(r"\b(" + "|".join(SPOKEN_ATTRIBUTES) + r')\s*=\s*"([^"]*)"')
_WORD = re.compile(r"[A-Za-z]{2,}")
#: Literal text that is the same in every language: product and format names, units, symbols.
_UNIVERSAL = frozenset(
    {
        "customslab",
        "HS",
        "QR",
        "PDF",
        "CSV",
        "XLSX",
        "JSON",
        "FHIR",
        "ISO",
        "IEC",
        "WCO",
        "RCL",
        "sha",
        "vol",
        "mL",
    }
)
_ENTITY = re.compile(r"&[#A-Za-z0-9]+;")


@dataclass(frozen=True)
class Gap:
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def catalogue(lang: str = "ko") -> dict[str, str]:
    """The catalogue's translations by message id; fuzzy entries count as missing."""
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        po = read_po(handle)
    out: dict[str, str] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string
        out[key] = string if isinstance(string, str) else (string[0] if string else "")
    return out


def _marked(root: Path) -> Iterator[tuple[str, str]]:
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), METHOD_MAP, keywords=KEYWORDS, comment_tags=()
    ):
        # A plural message is keyed by its singular form; its translation holds every plural form.
        text = message[0] if isinstance(message, tuple) else message
        if text:
            yield f"{filename}:{lineno}", text


def untranslated_messages(root: Path = HERE, lang: str = "ko") -> list[Gap]:
    known = catalogue(lang)
    return [Gap(where, text) for where, text in _marked(root) if not known.get(text)]


def _needs_words(text: str) -> bool:
    words = [w for w in _WORD.findall(_ENTITY.sub(" ", text)) if w not in _UNIVERSAL]
    return bool(words)


def literal_template_text(templates: Path = HERE / "templates") -> list[Gap]:
    """Text between tags, and spoken attribute values, written in a template without `_()`."""
    gaps: list[Gap] = []
    for path in sorted(templates.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for match in _ATTRIBUTE.finditer(source):
            value = _JINJA.sub("", match.group(2))
            if _needs_words(value):
                where = _where(path, templates, source, match.start())
                gaps.append(Gap(where, f'{match.group(1)}="{match.group(2)}"'))
        stripped = _JINJA.sub(lambda m: " " * len(m.group(0)), source)
        stripped = _TAG.sub(lambda m: " " * len(m.group(0)), stripped)
        for match in re.finditer(r"[^\s][^\n]*", stripped):
            text = match.group(0).strip()
            if _needs_words(text):
                gaps.append(Gap(_where(path, templates, source, match.start()), text))
    return gaps


def _where(path: Path, root: Path, source: str, offset: int) -> str:
    return f"{path.relative_to(root)}:{source.count(chr(10), 0, offset) + 1}"


def untranslated_vocabulary(lang: str = "ko", vocabularies: Iterable[type[Enum]] = VOCABULARIES) -> list[Gap]:
    known = catalogue(lang)
    return [
        Gap(f"{vocabulary.__name__}.{member.name}", word)
        for vocabulary in vocabularies
        for member in vocabulary
        if not known.get(word := str(member.value).replace("_", " "))
    ]


def all_gaps(lang: str = "ko") -> list[Gap]:
    return [*untranslated_messages(lang=lang), *literal_template_text(), *untranslated_vocabulary(lang)]


def main() -> int:
    gaps = all_gaps()
    for gap in gaps:
        print(gap)
    print(f"{len(gaps)} strings would show in English on the Korean pages.", file=sys.stderr)
    return 1 if gaps else 0


if __name__ == "__main__":
    raise SystemExit(main())
