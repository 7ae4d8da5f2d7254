"""Schemathesis fuzzes every operation of /openapi.json against the real app, anonymously and signed in.

Both runs use every built-in check (no server error, status codes, content types and headers documented,
response schema conformance, valid data accepted and invalid data rejected, authentication enforced,
Allow headers, ...) over every phase: examples, coverage, fuzzing and stateful sequences.

The runs go through schemathesis's engine (what `schemathesis run` uses) on the ASGI app in this
process: its pytest plugin cannot run under pytest 9.2, whose nodes no longer have `_nodeid`.
Each run is bounded by the number of fuzzed examples per operation and a fixed seed, so that both runs
together take a couple of minutes on two cores and a failure comes back on the next run.
Set CUSTOMSLAB_CONTRACT_REPORT to a folder to get each run's failures as Markdown there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from tests.integration.contract_support import SeededApi, seeded_api

pytestmark = pytest.mark.slow

#: Fuzzed examples per operation; the coverage and stateful phases add their own cases on top.
ANONYMOUS_EXAMPLES = 5
SIGNED_IN_EXAMPLES = 15
SEED = 20261121


@dataclass
class Findings:
    """What one run found: failed checks by operation, with one example each, and server errors."""

    label: str
    cases: int = 0
    seconds: float = 0.0
    failures: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"# schemathesis, {self.label}: {self.cases} cases in {self.seconds:.0f} s", ""]
        for (operation, check), examples in sorted(self.failures.items()):
            lines.append(f"- `{operation}` — **{check}** ({len(examples)} cases), e.g.:")
            lines.extend(f"  {line}" for line in examples[0].splitlines())
        lines.extend(f"- server error: {error}" for error in self.errors)
        return "\n".join(lines)


def _example(recorder: Any, case_id: str, info: Any) -> str:
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    answer = f"{response.status_code} {response.content[:200]!r}" if response is not None else "no response"
    message = info.failure.message.strip().splitlines()[0] if info.failure.message.strip() else ""
    return f"{info.failure.title}: {message}\n`{info.code_sample[:400]}`\n→ {answer}"


def run_schemathesis(schema: Any, label: str) -> Findings:
    """Run every phase and every check; collect failures instead of stopping at the first."""
    found = Findings(label)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            found.cases += len(recorder.cases)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        key = (check.failure_info.failure.operation or recorder.label, check.name)
                        found.failures.setdefault(key, []).append(
                            _example(recorder, case_id, check.failure_info)
                        )
        elif isinstance(event, events.NonFatalError):
            found.errors.append(f"`{event.label}`: {type(event.value).__name__}: {event.value}")
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            found.seconds = event.running_time
    report = os.environ.get("CUSTOMSLAB_CONTRACT_REPORT")
    if report:
        Path(report).mkdir(parents=True, exist_ok=True)
        (Path(report) / f"{label.replace(' ', '-')}.md").write_text(found.summary() + "\n")
    return found


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, reference_library: Path
) -> Iterator[SeededApi]:
    seeded = seeded_api(tmp_path_factory.mktemp("fuzz"), shared_data, reference_library)
    yield seeded
    seeded.db.dispose()


#: The project's schemathesis settings: the few operations whose rules JSON Schema cannot state.
CONFIG = Path(__file__).resolve().parents[2] / "schemathesis.toml"


def _schema(api: SeededApi, max_examples: int) -> Any:
    config = SchemathesisConfig.from_str(CONFIG.read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app, config=config)
    schema.config.seed = SEED
    schema.config.generation.update(max_examples=max_examples, database="none")
    return schema


def test_every_operation_keeps_its_contract_for_an_anonymous_caller(api: SeededApi) -> None:
    found = run_schemathesis(_schema(api, ANONYMOUS_EXAMPLES), "anonymous")
    assert found.cases > 0
    assert not found.failures and not found.errors, found.summary()


def test_every_operation_keeps_its_contract_for_a_user_with_every_role(api: SeededApi) -> None:
    schema = _schema(api, SIGNED_IN_EXAMPLES)

    # A token fetched through the API itself; schemathesis fetches a new one after a 401, which is
    # what follows the fuzzer's own call of POST /api/auth/logout.
    @schema.auth.auth()
    class Bearer:
        def get(self, case: Any, ctx: Any) -> str:
            return api.token()

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    found = run_schemathesis(schema, "signed in")
    assert found.cases > 0
    assert not found.failures and not found.errors, found.summary()
