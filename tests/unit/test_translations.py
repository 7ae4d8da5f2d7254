"""Every string a Korean reader meets on the pages is in Korean (see entrypoints/web/untranslated.py)."""

from __future__ import annotations

from pathlib import Path

from customslab.entrypoints.web import untranslated


def _listed(gaps: list[untranslated.Gap]) -> str:
    return f"{len(gaps)} untranslated (python -m customslab.entrypoints.web.untranslated):\n" + "\n".join(
        map(str, gaps[:60])
    )


def test_every_message_marked_for_translation_has_a_korean_translation() -> None:
    gaps = untranslated.untranslated_messages()
    assert not gaps, _listed(gaps)


def test_no_template_shows_english_text_outside_the_catalogue() -> None:
    gaps = untranslated.literal_template_text()
    assert not gaps, _listed(gaps)


def test_every_word_the_pages_translate_at_run_time_is_in_the_catalogue() -> None:
    gaps = untranslated.untranslated_vocabulary()
    assert not gaps, _listed(gaps)


def test_the_check_finds_a_literal_label_and_an_unmarked_placeholder(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        '<p>{{ _("Sample") }}</p>\n<label>Storage location</label>\n<input placeholder="e.g. shelf 3">\n'
        "<span title=\"{{ _('Done') }}\">{{ value }}</span>\n",
        encoding="utf-8",
    )
    found = {(g.where, g.text) for g in untranslated.literal_template_text(tmp_path)}
    assert found == {("page.html:2", "Storage location"), ("page.html:3", 'placeholder="e.g. shelf 3"')}
