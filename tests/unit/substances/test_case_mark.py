"""The case mark's stored codes and how they read, the list size the API can carry, who loads a national
list, and the command line's look-up checking what it is given."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from customslab.config import Settings
from customslab.domain.access import PERMISSIONS, Action, Actor, require
from customslab.domain.enums import ResultKind, Role
from customslab.domain.errors import PermissionDenied
from customslab.domain.model import Result
from customslab.entrypoints.cli import app
from customslab.services.control_mark import applicable, mark_codes, mark_entries, result_controls
from customslab.services.control_views import ControlStatus
from customslab.services.substances import MAX_LIST_BYTES
from customslab.substances.register import bundled_register


def _control(regime: str, schedule: str, list_name: str = "") -> ControlStatus:
    return ControlStatus(
        regime=regime, schedule=schedule, label="", list_name=list_name, substance="x", matched_by="cas"
    )


def test_a_mark_is_stored_as_codes_and_read_back_as_entries() -> None:
    stored = mark_codes([_control("UN1988", "II"), _control("national", "Cat 2", "KR Act")], "UN1961:I")
    assert stored == "UN1961:I|UN1988:II|national:Cat 2:KR Act"
    assert [(e.regime, e.schedule, e.label) for e in mark_entries(stored)] == [
        ("UN1961", "I", "UN 1961 Schedule I"),
        ("UN1988", "II", "UN 1988 Table II"),
        ("national", "Cat 2", "KR Act: Cat 2"),
    ]


def test_a_mark_stored_as_words_before_the_codes_still_reads() -> None:
    entries = mark_entries("KR Act: Cat 2; UN 1988 Table II")
    assert [e.label for e in entries] == ["KR Act: Cat 2", "UN 1988 Table II"]


def test_only_the_un_lists_and_the_requesting_administrations_lists_apply_to_the_officer() -> None:
    controls = [
        _control("UN1988", "II"),
        _control("national", "A", "Lab's list"),
        _control("national", "B", "Ours"),
    ]
    assert [c.list_name for c in applicable(controls, ["Ours"])] == ["", "Ours"]


def test_a_text_finding_marks_only_when_it_names_a_register_substance_exactly() -> None:
    def text(value: str) -> list[str]:
        r = Result("finding", None, "", 1, None, kind=ResultKind.TEXT, text_value=value)  # type: ignore[arg-type]
        return [f"{c.regime}:{c.schedule}" for c in result_controls(r, None, bundled_register())]

    assert text("Cocaine hydrochloride") == ["UN1961:I"]
    assert text("no cocaine was found") == []


def test_a_national_list_the_command_accepts_fits_in_a_json_body_the_api_accepts() -> None:
    # The CSV is JSON-escaped in the body: quotes and newlines take two bytes, other text one (ASCII).
    assert Settings.model_fields["max_json_bytes"].default > MAX_LIST_BYTES + 50_000


def test_only_an_administrator_may_load_a_national_list() -> None:
    assert PERMISSIONS[Action.MANAGE_SUBSTANCE_LISTS] == {Role.ADMIN}
    require(Actor(1, "a", "X", frozenset({Role.ADMIN})), Action.MANAGE_SUBSTANCE_LISTS)
    for role in set(Role) - {Role.ADMIN}:
        with pytest.raises(PermissionDenied):
            require(Actor(1, "x", "X", frozenset({role})), Action.MANAGE_SUBSTANCE_LISTS)


def test_the_check_command_refuses_a_cas_number_with_a_wrong_check_digit() -> None:
    run = CliRunner().invoke(app, ["substances", "check", "--cas", "50-36-3"])
    assert run.exit_code == 2
    assert "check digit" in run.output
    listed = CliRunner().invoke(app, ["substances", "check", "--cas", "50-36-2"])
    assert listed.exit_code == 0 and "UN 1961 Schedule I" in listed.output
