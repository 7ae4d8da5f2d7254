"""Wiring lives at the edges: services and the domain never import adapters, entrypoints or settings.

The imports are read with `ast`, so a name in a docstring or a comment is not mistaken for an import,
and an import inside a function (the usual way round a layering test that greps) is still caught.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "customslab"
INNER_LAYERS = ("domain", "services")
FORBIDDEN = ("customslab.adapters", "customslab.entrypoints", "customslab.config")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """Every module an import statement in SOURCE names, relative imports made absolute from PACKAGE."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from customslab import config` imports the module customslab.config.
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
            found.append((node.lineno, base))
    return found


def _is_forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def _inner_modules() -> list[Path]:
    return sorted(p for layer in INNER_LAYERS for p in (PACKAGE / layer).rglob("*.py"))


def test_the_layering_check_sees_every_service_and_domain_module() -> None:
    names = {_module_name(p) for p in _inner_modules()}
    assert {"customslab.services.cases", "customslab.domain.workflow"} <= names


@pytest.mark.parametrize("path", _inner_modules(), ids=lambda p: _module_name(p))
def test_services_and_the_domain_import_no_adapter_entrypoint_or_settings(path: Path) -> None:
    bad = sorted({f"line {line}: {module}" for line, module in _imports_of(path) if _is_forbidden(module)})
    assert not bad, f"{_module_name(path)} reaches outside its layer: {bad}"


def _imports_of(path: Path) -> list[tuple[int, str]]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    return _imported_modules(path.read_text(encoding="utf-8"), package)


def test_the_layering_check_catches_relative_and_function_level_imports() -> None:
    source = "def f():\n    from ..adapters import uow\n    from customslab import config\n"
    modules = [m for _, m in _imported_modules(source, "customslab.services")]
    assert [m for m in modules if _is_forbidden(m)] == [
        "customslab.adapters.uow",
        "customslab.adapters",
        "customslab.config",
    ]
