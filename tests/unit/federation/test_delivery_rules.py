"""The delivery rules: how long a message waits before its next attempt, and what each answer means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from customslab.domain.federation import MAX_ATTEMPTS, OutboxState, next_attempt
from customslab.services.federation_delivery import outcome_of

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "full"),
    [(1, 5), (2, 10), (3, 20), (4, 40), (10, 2560), (11, 3600), (25, 3600), (200, 3600)],
)
def test_the_backoff_doubles_from_the_base_up_to_the_cap_and_keeps_half_of_it_at_least(
    attempts: int, full: float
) -> None:
    waits = [(next_attempt(NOW, attempts, 5, 3600) - NOW).total_seconds() for _ in range(300)]
    assert all(full / 2 <= w <= full for w in waits)
    assert max(waits) - min(waits) > full / 10, "jittered, so that many messages do not come back together"


def test_a_backoff_never_comes_back_at_once_even_before_a_first_failure() -> None:
    assert next_attempt(NOW, 0, 5, 3600) - NOW >= timedelta(seconds=2.5)


@pytest.mark.parametrize(
    ("status", "attempts", "state"),
    [
        (202, 1, OutboxState.DELIVERED),
        (409, 3, OutboxState.DELIVERED),  # the partner has it already
        (202, MAX_ATTEMPTS, OutboxState.DELIVERED),
        (None, 1, OutboxState.PENDING),  # no answer: down, unreachable, timed out
        (425, 2, OutboxState.PENDING),  # an earlier message of the stream has not arrived yet
        (429, 1, OutboxState.PENDING),
        (500, 1, OutboxState.PENDING),
        (503, MAX_ATTEMPTS - 1, OutboxState.PENDING),
        (503, MAX_ATTEMPTS, OutboxState.FAILED),  # out of attempts: an administrator retries
        (None, MAX_ATTEMPTS, OutboxState.FAILED),
        (400, 1, OutboxState.FAILED),  # malformed or not addressed to the partner
        (403, 1, OutboxState.PENDING),  # not trusted yet: its administrator may register our key or resume us
        (403, MAX_ATTEMPTS, OutboxState.FAILED),
        (413, 1, OutboxState.FAILED),
        (422, 1, OutboxState.FAILED),  # refused by the partner's use case
        (404, 1, OutboxState.FAILED),  # no inbox at that URL
        (301, 1, OutboxState.FAILED),  # redirects are not followed
    ],
)
def test_each_answer_delivers_retries_or_fails_the_message(
    status: int | None, attempts: int, state: OutboxState
) -> None:
    assert outcome_of(status, attempts) is state


@pytest.mark.parametrize(
    ("errors", "pause"), [(0, 0.5), (1, 1.0), (3, 4.0), (7, 60.0), (1024, 60.0), (2000, 60.0), (10**6, 60.0)]
)
def test_the_worker_pauses_longer_after_each_failed_pass_up_to_a_minute_however_many_failed(
    errors: int, pause: float
) -> None:
    from customslab.entrypoints.worker import error_pause

    assert error_pause(0.5, errors) == pause


def test_control_characters_but_tab_and_newline_are_taken_out_of_a_partners_words() -> None:
    from customslab.services.federation_delivery import clean_text

    assert clean_text("bad\x00 value\x07\x1b[31m\x7f\tline\nnext") == "bad value[31m\tline\nnext"
