"""Korean pages name a CJK font on every platform, and the screenshot tooling installs one."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

CSS = REPO_ROOT / "src" / "customslab" / "entrypoints" / "web" / "static" / "css" / "app.css"


def _root_font_families() -> list[str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(encoding="utf-8"), re.S)
    assert root is not None
    declaration = re.search(r"font-family:\s*([^;]+);", root.group(1))
    assert declaration is not None
    return [family.strip().strip('"') for family in declaration.group(1).split(",")]


def test_the_stylesheet_names_a_korean_font_for_linux_macos_and_windows_before_the_generic_fallback() -> None:
    families = _root_font_families()
    assert families[-1] == "sans-serif"
    for korean in ("Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic"):
        assert korean in families[:-1], korean
    assert families.index("Noto Sans") < families.index("Noto Sans CJK KR"), "Latin glyphs come first"


def test_make_screenshots_installs_the_noto_cjk_fonts_before_taking_them() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\nscreenshots:", 1)[1].split("\n\n", 1)[0]
    assert target.index("scripts/ensure-cjk-fonts.sh") < target.index("customslab screenshots")
    script = (REPO_ROOT / "scripts" / "ensure-cjk-fonts.sh").read_text(encoding="utf-8")
    assert "fonts-noto-cjk" in script and "fc-list :lang=ko" in script
