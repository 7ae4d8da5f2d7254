"""Text analysis for the knowledge base: the terms a document is indexed by, the terms a query asks for,
the BM25 constants and the highlighted snippet shown in a hit list.

Written here rather than taken from a database's full-text engine because the same analysis must give
the same answers on SQLite and PostgreSQL, and neither engine's stock tokenizer splits Korean: a word
such as 고추를 ("red pepper" + object particle) is one token to both, so the query 고추 would never
find it. We index Hangul (and Han/Kana) runs by overlapping character bigrams instead, the approach of
Lucene's CJKBigramFilter, and English-like words by their Snowball stems (snowballstemmer).

Analysis, in order:

1. NFKC normalisation (full-width digits, compatibility jamo and half-width katakana fold to their
   ordinary forms) and case folding.
2. One regular-expression pass splits the text into HS codes (``0904.22``, ``0904.22.10``, the HSK
   form ``0904.22-1000``, and 6, 8 or 10 digits without dots: ``090422``, ``0904221000``), Hangul
   runs, Han/Hiragana/Katakana runs and runs of other letters and digits.
3. HS codes are kept whole, by their digits only and by their 4- and 6-digit prefixes, so the query
   ``0904`` finds ``0904.22.10`` and ``0904221000``, and ``090422`` finds ``0904.22``. A lot number of
   6, 8 or 10 digits is taken for a code too: a few extra terms, harmless to the ranking.
4. Hangul and Han/Kana runs give their overlapping bigrams (고추를 → 고추, 추를); a one-character run
   gives itself. A document run also gives its first character, so that one-syllable words followed by
   a particle (쌀을, 茶を) are found by the query 쌀 or 茶; a query run of two or more characters gives
   bigrams only, so a query never matches on a lone syllable it did not ask for.
5. Other words lose the small English stopword set below and are reduced to their Snowball English
   stem (peppers → pepper); pure numbers are kept as they are. Words longer than `MAX_TERM_LENGTH`
   (base64, hashes) are dropped.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from itertools import islice

import snowballstemmer

__all__ = [
    "K1",
    "MAX_TERM_LENGTH",
    "STOPWORDS",
    "B",
    "idf",
    "index_terms",
    "query_terms",
    "snippet",
    "term_count",
]

# BM25 parameters (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework: BM25 and
# Beyond", section 3.3: k1 in [1.2, 2.0], b = 0.75 are the usual defaults).
K1 = 1.2
B = 0.75

# Terms longer than this are noise (identifiers, base64) and would bloat the postings table.
MAX_TERM_LENGTH = 64

# Only the commonest English function words: anything rarer is better weighed by BM25's idf than
# dropped, and Korean particles need no list (the bigrams outweigh them).
STOPWORDS = frozenset(
    {
        *("the", "of", "and", "a", "to", "in", "is", "for", "on", "with", "as"),
        *("by", "at", "or", "an", "be", "are", "from", "that", "this", "it"),
    }
)

_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\ud7b0-\ud7ff"
_CJK = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
# Group 1: an HS code standing alone: heading.subheading[.national[.statistical]], the Korean HSK form
# heading.subheading-national (0904.22-1000), or 6, 8 or 10 digits written without dots (090422,
# 0904221000) — a 4-digit number stays a plain number, so years are not taken for headings;
# group 2: a Hangul run; group 3: a Han/Kana run; group 4: any other run of letters and digits.
_TOKEN = re.compile(
    r"(?<![\d.])(\d{4}\.\d{2}(?:-\d{4}|(?:\.\d{2,4}){0,2})(?!\d|\.\d)"
    rf"|(?:\d{{10}}|\d{{8}}|\d{{6}})(?![^\W_{_HANGUL}{_CJK}]|\.\d))"
    rf"|([{_HANGUL}]+)"
    rf"|([{_CJK}]+)"
    rf"|([^\W_{_HANGUL}{_CJK}]+)"
)

_CJK_TERM = re.compile(rf"[{_HANGUL}]{{1,2}}|[{_CJK}]{{1,2}}")
_SPACE = re.compile(r"\s")
_LATIN_CHAR = re.compile(rf"[^\W_{_HANGUL}{_CJK}]")

_STEMMER = snowballstemmer.stemmer("english")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str | None:
    """The index term of a Latin (or other alphabetic) word, or None when it is not indexed."""
    if word in STOPWORDS or len(word) > MAX_TERM_LENGTH:
        return None
    if word.isdigit():
        return word
    stem: str = _STEMMER.stemWord(word)
    return stem


def _hs_terms(code: str) -> list[str]:
    digits = code.replace(".", "").replace("-", "")
    terms = [code, digits[:4], digits[:6], digits]
    return list(dict.fromkeys(terms))


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _tokens(normalised: str) -> Counter[tuple[str, str, str, str]]:
    return Counter(_TOKEN.findall(normalised))


def index_terms(text: str) -> Counter[str]:
    """Each index term of `text` with its frequency (the BM25 term frequency)."""
    terms: Counter[str] = Counter()
    # Count raw tokens first (C speed), then analyse each distinct token once: a 60,000-character
    # document has about 10,000 tokens but only a few thousand distinct ones.
    for (code, hangul, cjk, word), count in _tokens(_normalise(text)).items():
        if word:
            stem = _stem(word)
            if stem is not None:
                terms[stem] += count
        elif hangul or cjk:
            run = hangul or cjk
            for gram in _bigrams(run):
                terms[gram] += count
            if len(run) > 1:
                terms[run[0]] += count
        else:
            for term in _hs_terms(code):
                terms[term] += count
    return terms


def query_terms(query: str) -> list[str]:
    """The distinct terms of `query`, in the order they appear (see the module docstring, step 4)."""
    found: dict[str, None] = {}
    for code, hangul, cjk, word in _TOKEN.findall(_normalise(query)):
        if word:
            stem = _stem(word)
            if stem is not None:
                found[stem] = None
        elif hangul or cjk:
            found.update(dict.fromkeys(_bigrams(hangul or cjk)))
        else:
            found.update(dict.fromkeys(_hs_terms(code)))
    return list(found)


def term_count(terms: Counter[str]) -> int:
    """The length of a document for BM25's length normalisation: the number of its term occurrences."""
    return sum(terms.values())


def idf(n_docs: int, df: int) -> float:
    """BM25 inverse document frequency, never negative.

    idf = ln(1 + (N − df + 0.5) / (df + 0.5)), N documents of which df contain the term
    (Robertson & Zaragoza 2009, eq. 3.3, with the +1 inside the logarithm as in Lucene's BM25Similarity).
    """
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _word_starts(terms: frozenset[str]) -> set[str]:
    """How a word whose term is asked for begins: a Snowball stem is the word's start but for its last
    letter at most (classify → classifi); 0904, 090422 and 0904.22 begin like their heading."""
    return {t[:4] if t[0].isdigit() else (t[:-1] or t) for t in terms if not _CJK_TERM.fullmatch(t)}


def _occurrences(haystack: str, needle: str) -> Iterator[int]:
    at = haystack.find(needle)
    while at >= 0:
        yield at
        at = haystack.find(needle, at + 1)


def _matches(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of `text` to highlight: whole words whose term is asked for, and inside Hangul/Han/Kana
    runs the asked-for bigrams and single characters (고추 inside 고추를 is only 고추).

    Rather than analyse every word of a long text, the places where a term may occur are found with
    str.find (C speed), and only the words starting there are analysed; a long document's snippet then
    costs about a millisecond instead of tens."""
    spans: list[tuple[int, int]] = []
    lowered = text.lower()
    starts: set[int] = set()
    for start in _word_starts(terms):
        if len(lowered) == len(text):
            starts.update(_occurrences(lowered, start.lower()))
        else:  # a rare text whose lower case changes its length (İ): the slower, aligned way
            starts.update(m.start() for m in re.finditer(re.escape(start), text, re.IGNORECASE))
    for at in sorted(starts):
        if at > 0 and _LATIN_CHAR.match(text, at - 1):
            continue  # inside a word, not at its start
        # The token that starts here, cut as the indexer cuts it, analysed after its own normalisation
        # so that the span stays aligned with `text` whatever NFKC does to the word.
        token = _TOKEN.match(text, at)
        if token is None or not (token.group(1) or token.group(4)):
            continue
        folded = _normalise(token.group())
        hit = _stem(folded) in terms if token.group(4) else any(t in terms for t in _hs_terms(folded))
        if hit:
            spans.append(token.span())
    for term in terms:
        if _CJK_TERM.fullmatch(term):
            spans.extend((at, at + len(term)) for at in _occurrences(text, term))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _best_window(spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The index range [i, j) of the spans that fit most of them in `width` characters (two pointers)."""
    best, best_i, best_j = 0, 0, 0
    j = 0
    for i, (start, _) in enumerate(spans):
        j = max(j, i)
        while j < len(spans) and spans[j][1] - start <= width:
            j += 1
        if j - i > best:
            best, best_i, best_j = j - i, i, j
    return best_i, best_j


def _snap(text: str, start: int, end: int) -> tuple[int, int]:
    """Move a window's edges to whitespace (at most 20 characters in) so that it neither starts nor
    ends inside a word."""
    if start > 0:
        space = _SPACE.search(text, start, min(start + 20, end))
        if space:
            start = space.end()
    if end < len(text):
        lo = max(end - 20, start)
        space_at = max(text.rfind(c, lo, end) for c in " \n\t")
        if space_at > start:
            end = space_at
    return start, end


#: The most characters of a text a snippet analyses: a longer text (up to 5 million characters) is read
#: around its first match only: a 4.8-million-character hit then costs about 70 ms, not 1.8 s.
SNIPPET_SCAN = 200_000


def _first_match(text: str, terms: frozenset[str]) -> int:
    """About where the first match of `terms` is (0 when none is found): the earliest place a word
    asked for begins at a word's start, or an asked-for Hangul/Han/Kana bigram is; str.find only.
    A lower case that changes the text's length (İ) shifts the place by a few characters at most."""
    lowered = text.lower()
    places = []
    for start in _word_starts(terms):
        for at in islice(_occurrences(lowered, start.lower()), 1000):
            if at == 0 or not _LATIN_CHAR.match(lowered, at - 1):
                places.append(at)
                break
    places.extend(at for t in terms if _CJK_TERM.fullmatch(t) and (at := text.find(t)) >= 0)
    return min(places, default=0)


def snippet(text: str, query: str, width: int = 240) -> list[tuple[str, bool]]:
    """The `width`-character window of `text` with the most query matches, as (segment, highlighted)
    pairs; the segments joined give the window's text exactly, preceded and followed by an unhighlighted
    "…" where the window does not reach the text's start or end. A text longer than `SNIPPET_SCAN` is
    read only in the `SNIPPET_SCAN` characters around its first match."""
    if len(text) <= SNIPPET_SCAN:
        return _snippet(text, query, width)
    at = _first_match(text, frozenset(query_terms(query)))
    end = min(len(text), max(at - SNIPPET_SCAN // 4, 0) + SNIPPET_SCAN)
    start, end = _snap(text, end - SNIPPET_SCAN, end)
    segments = _snippet(text[start:end], query, width)
    if start > 0 and segments[:1] != [("…", False)]:
        segments.insert(0, ("…", False))
    if end < len(text) and segments[-1:] != [("…", False)]:
        segments.append(("…", False))
    return segments


def _snippet(text: str, query: str, width: int) -> list[tuple[str, bool]]:
    if not text:
        return []
    terms = set(query_terms(query))
    spans = _merge(sorted(_matches(text, frozenset(terms)))) if terms else []
    if spans:
        first, last = _best_window(spans, width)
        chosen = spans[first:last]
        used = chosen[-1][1] - chosen[0][0]
        start = max(0, chosen[0][0] - (width - used) // 2)
        end = min(len(text), start + width)
        start = max(0, min(start, end - width))
        start, end = _snap(text, start, end)
        # Snapping never cuts the matches the window was chosen for.
        start, end = min(start, chosen[0][0]), max(end, chosen[-1][1])
    else:
        start, end = _snap(text, 0, min(len(text), width))
    segments: list[tuple[str, bool]] = []
    if start > 0:
        segments.append(("…", False))
    at = start
    lo = bisect.bisect_left(spans, (start, start))
    for span_start, span_end in spans[lo:]:
        if span_end > end:
            break
        if span_start > at:
            segments.append((text[at:span_start], False))
        segments.append((text[span_start:span_end], True))
        at = span_end
    if at < end:
        segments.append((text[at:end], False))
    if end < len(text):
        segments.append(("…", False))
    return segments
