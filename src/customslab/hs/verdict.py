"""The verdict of an evaluation in one sentence, in English or Korean: the CLI, the API, the pages and the
test report all print this sentence, so they never word a decision differently.

Agreement is claimed only at the level the rules decided ("agrees at heading 22.08; subheading not
determined by these results"); a code no rule decided is named as the declaration it is; an undecided
rule names what it still needs, or says that its evidence conflicts or is not conclusive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from customslab.hs.levels import at_level, dotted, level_of, open_below
from customslab.hs.measurands import measurand_label
from customslab.hs.nomenclature import hs6

if TYPE_CHECKING:  # only for annotations: evaluate imports this module
    from customslab.hs.evaluate import Evaluation

#: The levels as Korean names them.
_KO_LEVEL = {"chapter": "류", "heading": "호", "subheading": "소호", "national tariff line": "국가 세번"}
_KO_MISMATCH = {"subheading": "소호", "heading": "호", "chapter": "류"}
_KO_JOIN = {"or": "또는", "and": "및"}


def at_level_ko(code: str) -> str:
    """As the Korean tariff writes codes: '22' → 제22류, '2208' → 제2208호, '220840' → 소호 제2208.40호,
    a national line → 국가 세번 2208.40.1000."""
    level = level_of(code)
    if level == "chapter":
        return f"제{code}류"
    if level == "heading":
        return f"제{code}호"
    if level == "subheading":
        return f"소호 제{dotted(code)}호"
    return f"국가 세번 {dotted(code)}"


def code_words(code: str, lang: str = "en") -> str:
    """A code at its level in `lang`: 'heading 22.08' (en), '제2208호' (ko)."""
    return at_level_ko(code) if lang == "ko" else at_level(code)


def _name(lang: str, code: str) -> str:
    return code_words(code, lang)


def _names(lang: str, pairs: Sequence[tuple[str, str]], last: str, declared: str = "") -> str:
    """Codes as decided, with their level. A code no rule decided is the declaration itself ("the
    declared 2208.30") or a code the rules left open (an exception), named by its own level."""
    words: list[str] = []
    for code, decided in pairs:
        if decided:
            word = _name(lang, decided)
        elif code == declared:
            word = f"신고한 {dotted(code)}" if lang == "ko" else f"the declared {dotted(code)}"
        else:
            word = _name(lang, code)
        if word not in words:
            words.append(word)
    if len(words) == 1:
        return words[0]
    join = _KO_JOIN[last] if lang == "ko" else last
    return f"{', '.join(words[:-1])} {join} {words[-1]}"


def _and(words: Sequence[str]) -> str:
    """'heading', 'heading and subheading', 'heading, subheading and national tariff line'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def verdict_text(ev: Evaluation, language: str = "en") -> str:
    """The evaluation's verdict in `language` (en, ko; English for any other)."""
    lang = "ko" if language == "ko" else "en"
    if ev.status == "no_rule":
        return (
            "이 품목번호와 결과에 적용되는 측정 규칙이 없다."
            if lang == "ko"
            else "No measurement rule applies to this code and these results."
        )
    pairs = list(zip(ev.determined, ev.decided or ev.determined, strict=True))
    declared = hs6(ev.declared)
    if ev.status == "undecided":
        return _undecided(ev, _names(lang, pairs, "and", declared), lang)
    if ev.mismatch == "none":
        return _agreement(ev, pairs, lang)
    codes = _names(lang, pairs, "or", declared)
    if lang == "ko":
        level = _KO_MISMATCH.get(ev.mismatch, ev.mismatch)
        return f"신고 {dotted(ev.declared)} ≠ 판정 {codes} ({level} 단위에서 다름)."
    return f"Declared {dotted(ev.declared)} ≠ determined {codes} (differs at {ev.mismatch} level)."


def _undecided(ev: Evaluation, codes: str, lang: str) -> str:
    missing = [measurand_label(name, lang) for name in ev.missing_evidence]
    if ev.conflicting_evidence:
        if lang == "ko":
            return f"판정 불가: 측정한 증거가 서로 다른 결론({codes})을 뒷받침한다."
        return f"Undecided: the measured evidence points to different codes ({codes})."
    if missing:
        needed = ", ".join(missing)
        if lang == "ko":
            return f"판정 불가: 현재 결과로는 {codes}을(를) 구분할 수 없다. 더 필요한 결과: {needed}."
        return f"Undecided: these results do not yet tell apart {codes}; still needed: {needed}."
    if any(f.rule.kind == "evidence" and f.status == "undecided" for f in ev.firings):
        if lang == "ko":
            return f"판정 불가: 측정한 증거로는 {codes} 중 어느 것도 결론지을 수 없다."
        return f"Undecided: the measured evidence is not conclusive for any of {codes}."
    if lang == "ko":
        kind = "보호대역 적용" if ev.decision_rule.value == "guarded" else "단순"
        return f"판정 불가: {kind} 판정에서는 결과로 {codes}을(를) 구분할 수 없다."
    return f"Undecided: the results cannot tell apart {codes} under {ev.decision_rule.value} acceptance."


def _agreement(ev: Evaluation, pairs: Sequence[tuple[str, str]], lang: str) -> str:
    """The declaration is consistent with what the rules determined: say at which level they decided it,
    what they left open below that level, and which codes they leave open."""
    declared, code = dotted(ev.declared), hs6(ev.declared)
    decided, level = ev.agreement()
    # The codes the rules leave open besides the declaration itself.
    open_codes = [p for p in pairs if p[0] != code] if len(pairs) > 1 else []
    if not decided:
        return _undetermined(ev, pairs, declared, code, lang)
    left = open_below(decided, ev.declared)
    if lang == "ko":
        where = f"{_KO_LEVEL[level]} 단위" if decided == code else at_level_ko(decided)
        text = f"신고 {declared}은(는) {where}에서 일치한다."
        if left:
            text += f" 이 결과로 정해지지 않은 단위: {', '.join(_KO_LEVEL[x] for x in left)}."
        if open_codes:
            text += f" 규칙상 가능한 것: {_names(lang, open_codes, 'or', code)}."
        return text
    where = f"{level} level" if decided == code else at_level(decided)
    text = f"Declared {declared} agrees at {where}"
    text += f"; {_and(left)} not determined by these results." if left else "."
    if open_codes:
        text += f" The rules leave open {_names(lang, open_codes, 'or', code)}."
    return text


def _undetermined(
    ev: Evaluation, pairs: Sequence[tuple[str, str]], declared: str, code: str, lang: str
) -> str:
    """Consistent, but no level of the declaration is decided: the open codes share nothing with it (one
    of 34.03, 38.24 or 38.26), or it stands only through an exception the rules do not measure."""
    measured = [(c, d) for c, d in pairs if d]
    exceptions = [(c, d) for c, d in pairs if not d and c != code]
    if measured and exceptions:
        if lang == "ko":
            return (
                f"측정 결과는 신고 {declared}이(가) 아닌 {_names(lang, measured, 'or')}(으)로 판정한다. "
                f"다만 물품이 이 규칙으로 측정하지 않는 {_names(lang, exceptions, 'or')}에 해당하면 "
                "그렇지 않다."
            )
        return (
            f"The measurement decides {_names(lang, measured, 'or')} rather than declared {declared}, "
            f"unless the goods fall in {_names(lang, exceptions, 'or')}, which these rules do not measure."
        )
    if all(f.status == "no_outcome" for f in ev.firings):
        if lang == "ko":
            return f"신고 {declared}에 적용되는 규칙은 이 결과로 어떤 품목번호도 판정하지 않는다."
        return f"The rules that apply to declared {declared} decide no code on these results."
    if all(c == code for c, _ in pairs):
        if lang == "ko":
            return (
                f"신고 {declared}은(는) 이 결과와 모순되지 않으나, 규칙은 신고의 어느 단위도 판정하지 않는다."
            )
        return f"Declared {declared} is consistent with these results, but the rules decide no level of it."
    if lang == "ko":
        return (
            f"신고 {declared}은(는) 이 결과와 모순되지 않으나, 결과는 {_names(lang, pairs, 'or', code)} 중 "
            "어느 것인지 정하지 않으므로 신고의 어느 단위도 판정하지 않는다."
        )
    return (
        f"Declared {declared} is consistent with these results, which leave open "
        f"{_names(lang, pairs, 'or', code)}; they decide no level of the declaration."
    )
