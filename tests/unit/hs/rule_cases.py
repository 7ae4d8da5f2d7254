"""What the table-driven rule tests compare: a declaration's evaluated status and determined codes.

Each rule test module holds a CASES table of (declared, results, expected status, expected codes)
and checks every row the same way, through `status_and_codes`.
"""

from __future__ import annotations

from customslab.hs.evaluate import evaluate

CASE_FIELDS = ("declared", "results", "status", "determined")


def status_and_codes(declared: str, results: list[str]) -> tuple[str, list[str]]:
    """Evaluate the declaration and keep what the tables state; the order of the codes is not significant."""
    outcome = evaluate(declared, results)
    return outcome.status, sorted(outcome.determined)


def fired_rules(declared: str, results: list[str]) -> list[str]:
    """The ids of the rules that fired, in firing order."""
    return [f.rule.id for f in evaluate(declared, results).firings]
