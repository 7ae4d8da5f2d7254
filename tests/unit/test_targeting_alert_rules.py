"""The targeting alert rules on their own: windows, the rising-rate test, repeated importers, keys."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from customslab.domain.targeting import wilson_interval
from customslab.domain.targeting_alerts import (
    SUBSTANCE_KEY_LENGTH,
    AlertRules,
    first_key,
    importer_key,
    importer_repeats,
    importer_token,
    importer_window,
    name_key,
    rate_key,
    rate_rises,
    rate_windows,
    recently_alerted,
    substance_keys,
)
from customslab.substances.register import normalise_name

RULES = AlertRules()


def test_the_default_rules_are_those_of_the_issue() -> None:
    assert (RULES.recent_days, RULES.history_days, RULES.min_recent_n) == (90, 365, 5)
    assert (RULES.importer_mismatches, RULES.importer_days) == (3, 180)


@pytest.mark.parametrize("field", ["recent_days", "history_days", "min_recent_n", "importer_days"])
def test_a_rule_parameter_below_one_is_refused_with_its_name(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        AlertRules(**{field: 0})


def test_the_recent_window_ends_today_and_the_history_ends_the_day_before_it() -> None:
    recent, history = rate_windows(date(2026, 11, 30), RULES)
    assert (recent.start, recent.end) == (date(2026, 9, 2), date(2026, 11, 30))
    assert (recent.end - recent.start).days + 1 == 90
    assert history.end == date(2026, 9, 1)
    assert (history.end - history.start).days + 1 == 365
    window = importer_window(date(2026, 11, 30), RULES)
    assert (window.end - window.start).days + 1 == 180


def test_a_rate_that_jumped_well_above_its_history_rises() -> None:
    # 8 of 10 recently: Wilson (0.490, 0.943); 4 of 40 before: (0.040, 0.231).
    assert wilson_interval(8, 10)[0] > wilson_interval(4, 40)[1]
    assert rate_rises(8, 10, 4, 40, RULES)


def test_a_flat_rate_stays_quiet() -> None:
    assert not rate_rises(1, 10, 4, 40, RULES)
    assert not rate_rises(10, 100, 40, 400, RULES)


def test_overlapping_intervals_stay_quiet_even_when_the_recent_rate_is_higher() -> None:
    # 3 of 10 (0.108, 0.603) against 4 of 40 (0.040, 0.231): higher, but not beyond chance.
    assert not rate_rises(3, 10, 4, 40, RULES)


def test_a_handful_of_recent_cases_never_alerts_however_bad() -> None:
    assert not rate_rises(4, 4, 0, 100, RULES)
    assert rate_rises(5, 5, 0, 100, RULES)
    assert not rate_rises(5, 5, 0, 100, AlertRules(min_recent_n=6))


def test_a_selector_without_history_has_nothing_to_rise_above() -> None:
    assert not rate_rises(9, 10, 0, 0, RULES)


def test_an_importer_repeats_from_the_third_mismatch() -> None:
    assert not importer_repeats(2, RULES)
    assert importer_repeats(3, RULES)
    assert not importer_repeats(3, AlertRules(importer_mismatches=4))


def test_a_substance_is_keyed_by_its_name_first_and_also_by_its_inchikey_skeleton() -> None:
    cocaine = "ZPUCINDJVBIVPJ-LJISPDSOSA-N"
    assert substance_keys("cocaine", cocaine) == ("name:cocaine", "ik:ZPUCINDJVBIVPJ")
    assert substance_keys("cocaine", "") == substance_keys("cocaine", "not-a-key") == ("name:cocaine",)
    assert substance_keys("", cocaine) == ("ik:ZPUCINDJVBIVPJ",)
    assert substance_keys("", "") == ()


def test_a_base_and_its_salt_share_their_primary_key_though_their_skeletons_differ() -> None:
    base = substance_keys(normalise_name("Cocaine"), "ZPUCINDJVBIVPJ-LJISPDSOSA-N")
    salt = substance_keys(normalise_name("Cocaine hydrochloride"), "PIQVDUKEQYOJNR-VZXSFKIWSA-N")
    assert base[0] == salt[0] == "name:cocaine" and base[1] != salt[1]


def test_a_long_name_is_keyed_within_its_column_and_still_apart_from_its_neighbours() -> None:
    stem = "x" * 200
    first, second = name_key(stem + "a"), name_key(stem + "b")
    assert len(first) == len(second) == SUBSTANCE_KEY_LENGTH and first != second


def test_an_importer_token_is_stable_names_nothing_and_ignores_case_and_spacing() -> None:
    token = importer_token("Hanbit  Trading Co.")
    assert token == importer_token("hanbit trading co.") and len(token) == 12
    assert "hanbit" not in token.casefold()
    assert token != importer_token("Hanbit Trading Co")


def test_alert_keys_name_the_day_and_a_selector_that_alerted_within_the_window_stays_quiet() -> None:
    day = date(2026, 11, 3)
    assert rate_key("KR", "0904", "CN", day) == "rate:KR:0904:CN:2026-11-03"
    key = importer_key("KR", "Hanbit Trading", day)
    assert key.startswith("importer:KR:") and key.endswith(":2026-11-03") and "Hanbit" not in key
    # A rise alerted on 3 November stays quiet through the next 89 days (recent_days 90), not a month.
    assert recently_alerted([day], date(2026, 12, 3), RULES.recent_days)
    assert recently_alerted([day], day + timedelta(days=89), RULES.recent_days)
    assert not recently_alerted([day], day + timedelta(days=90), RULES.recent_days)
    assert not recently_alerted([], day, RULES.recent_days)
    assert first_key("*", "ik:ZPUCINDJVBIVPJ") == "first:*:ik:ZPUCINDJVBIVPJ"
