"""Instrument result import through the services, on SQLite and PostgreSQL: the preview writes nothing,
the commit writes exactly what the preview showed or nothing, and the controls of hand entry apply."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from customslab.adapters import orm
from customslab.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from customslab.services import analysis, auth
from customslab.services import instrument_mappings as mappings
from customslab.services import quality_equipment as equipment
from customslab.services.analysis import ResultCreate
from customslab.services.result_import import (
    ImportConfirm,
    ImportFile,
    ImportOptions,
    ImportPreview,
    commit_import,
    preview_import,
)
from customslab.services.result_import_files import FileRefused
from customslab.services.result_import_rows import SkipReason
from tests.factories import (
    ETHANOL,
    Network,
    assigned_test,
    calibrated_instrument,
    make_network,
    received_sample,
    unique,
)
from tests.integration.test_quality_flow import _authorise, _method, _test
from tests.result_import_support import GCFID, ICPMS, XRF, mapping_command, renamed

UowFactory = Any


@pytest.fixture
def net(uow_factory: UowFactory) -> Network:
    return make_network(uow_factory)


def _results(uow_factory: UowFactory) -> int:
    """Every result stored, in every laboratory (the tests' networks share the database)."""
    uow = uow_factory()
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(orm.results)) or 0)


def _stored(uow_factory: UowFactory, test_id: int) -> list[tuple[str, str, str, str]]:
    uow = uow_factory()
    with uow:
        test = uow.repo.test(test_id)
        return [(r.name, r.kind.value, str(r.value), r.text_value) for r in test.results]


def _mapping(uow_factory: UowFactory, net: Network, export: str, **changes: Any) -> int:
    return mappings.create_mapping(
        uow_factory(), net["central_manager"], mapping_command(export, **changes)
    ).id


def _instrument(uow_factory: UowFactory, net: Network, next_due_days: int | None = 180) -> int:
    """An instrument of the central laboratory, calibrated and due in `next_due_days` (None: never)."""
    return calibrated_instrument(
        uow_factory,
        net,
        equipment.EquipmentCreate(equipment_id=unique("EQ"), name="ICP-MS"),
        calibrated_days_ago=10,
        result="all masses within 5 %",
        acceptance_criteria="±10 %",
        next_due_days=next_due_days,
    )


def _icpms_case(uow_factory: UowFactory, net: Network) -> tuple[bytes, list[int]]:
    """Two received samples of the central laboratory with a heavy-metals test each, assigned to its
    analyst, and the ICP-MS export naming them: (file, test ids)."""
    ids: dict[str, str] = {}
    tests = []
    for name in ("KCS-CCL-2026-00117", "KCS-CCL-2026-00118"):
        sample = received_sample(uow_factory, net)
        ids[name] = sample.lab_sample_id
        t = assigned_test(
            uow_factory, net, sample.id, determination="Heavy metals (Cr, Ni, Cd, Pb)", method_ref="ICP-MS"
        )
        tests.append(t.id)
    return renamed(ICPMS, ids), tests


def _preview(
    uow_factory: UowFactory, net: Network, mapping_id: int, content: bytes, **opts: int
) -> ImportPreview:
    options = ImportOptions(mapping_id=mapping_id, **opts)
    return preview_import(uow_factory(), net["analyst"], options, ImportFile(ICPMS, content))


def _commit(
    uow_factory: UowFactory, net: Network, preview: ImportPreview, content: bytes, name: str = ICPMS
) -> Any:
    confirm = ImportConfirm(
        mapping_id=preview.mapping_id,
        equipment_id=preview.equipment_id,
        qc_batch_id=preview.qc_batch_id,
        fingerprint=preview.fingerprint,
    )
    return commit_import(uow_factory(), net["analyst"], confirm, ImportFile(name, content))


# -- what the preview shows is what is written -------------------------------------------------------


def test_the_importer_writes_only_what_the_preview_showed(uow_factory: UowFactory, net: Network) -> None:
    content, (first, second) = _icpms_case(uow_factory, net)
    mapping_id = _mapping(uow_factory, net, ICPMS)
    before = _results(uow_factory)
    preview = _preview(uow_factory, net, mapping_id, content)
    assert _results(uow_factory) == before, "a preview writes nothing"
    shown = [(r.test_id, r.measurand, r.kind.value, str(r.value), r.text_value) for r in preview.rows]
    assert shown == [
        (first, "element.Cr", "quantity", "12.84", ""),
        (first, "element.Ni", "quantity", "8.31", ""),
        (first, "element.Cd", "detection", "None", "not_detected"),
        (first, "element.Pb", "quantity", "0.412", ""),
        (second, "element.Cr", "quantity", "3.07", ""),
        (second, "element.Ni", "quantity", "1.96", ""),
        (second, "element.Cd", "quantity", "0.0183", ""),
        (second, "element.Pb", "detection", "None", "not_detected"),
    ]
    unknown = [s for s in preview.skipped if s.reason is SkipReason.UNKNOWN_SAMPLE]
    assert [s.line for s in unknown] == [32, 33]

    done = _commit(uow_factory, net, preview, content)
    assert done.written == 8 and done.tests == sorted([first, second])
    assert _results(uow_factory) == before + 8
    written = _stored(uow_factory, first) + _stored(uow_factory, second)
    assert [(t, *w) for t, w in zip([r.test_id for r in preview.rows], written, strict=True)] == [
        (t, m, k, v, o) for t, m, k, v, o in shown
    ]
    uow = uow_factory()
    with uow:
        test = uow.repo.test(first)
        chromium = test.results[0]
        assert (chromium.unit, str(chromium.expanded_uncertainty), str(chromium.coverage_factor)) == (
            "mg/kg",
            "0.95",
            "2",
        )
        assert chromium.entered_by == net["analyst"].user_id and "line 20" in chromium.observation
        assert test.state.value == "in_analysis"
        assert [a.filename for a in test.attachments] == [ICPMS], "the export is kept with the test"
        cadmium = test.results[2]
        assert (str(cadmium.lod), cadmium.unit) == ("0.004", "mg/kg")


def test_importing_the_same_file_again_writes_nothing_more(uow_factory: UowFactory, net: Network) -> None:
    content, _ = _icpms_case(uow_factory, net)
    mapping_id = _mapping(uow_factory, net, ICPMS)
    _commit(uow_factory, net, _preview(uow_factory, net, mapping_id, content), content)
    again = _preview(uow_factory, net, mapping_id, content)
    assert again.rows == []
    assert {s.reason for s in again.skipped if s.sample.startswith(net.central)} == {
        SkipReason.ALREADY_RECORDED,
        SkipReason.EXCLUDED,  # the internal standard's rows
    }
    with pytest.raises(ValidationFailed, match="no result to write"):
        _commit(uow_factory, net, again, content)


def test_a_file_changed_since_the_preview_is_refused_and_nothing_is_written(
    uow_factory: UowFactory, net: Network
) -> None:
    content, _ = _icpms_case(uow_factory, net)
    mapping_id = _mapping(uow_factory, net, ICPMS)
    preview = _preview(uow_factory, net, mapping_id, content)
    before = _results(uow_factory)
    edited = content.replace(b",12.84,", b",21.84,")
    with pytest.raises(Conflict, match="changed since the preview") as refused:
        _commit(uow_factory, net, preview, edited)
    assert refused.value.field == "fingerprint"
    assert _results(uow_factory) == before


def test_a_test_that_moved_on_since_the_preview_refuses_the_whole_commit(
    uow_factory: UowFactory, net: Network
) -> None:
    content, (first, _) = _icpms_case(uow_factory, net)
    mapping_id = _mapping(uow_factory, net, ICPMS)
    preview = _preview(uow_factory, net, mapping_id, content)
    hand = ResultCreate(name="element.Zn", value="5", unit="mg/kg")
    analysis.enter_result(uow_factory(), net["analyst"], first, hand)  # the test is now in analysis
    before = _results(uow_factory)
    with pytest.raises(Conflict):
        _commit(uow_factory, net, preview, content)
    assert _results(uow_factory) == before


def test_a_mapping_edited_since_the_preview_refuses_the_commit(uow_factory: UowFactory, net: Network) -> None:
    content, _ = _icpms_case(uow_factory, net)
    mapping_id = _mapping(uow_factory, net, ICPMS)
    preview = _preview(uow_factory, net, mapping_id, content)
    changed = mapping_command(ICPMS, lod_column="")
    mappings.update_mapping(uow_factory(), net["central_manager"], mapping_id, changed)
    with pytest.raises(Conflict):
        _commit(uow_factory, net, preview, content)


# -- bad units ---------------------------------------------------------------------------------------


def test_a_file_with_a_bad_unit_is_refused_without_writing_anything(
    uow_factory: UowFactory, net: Network
) -> None:
    content, _ = _icpms_case(uow_factory, net)
    mapping_id = _mapping(uow_factory, net, ICPMS)
    preview = _preview(uow_factory, net, mapping_id, content)
    bad = content.replace(b"He,0.412,mg/kg", b"He,0.412,mg/kq")
    before = _results(uow_factory)
    with pytest.raises(FileRefused, match=r"Line 23: the unit 'mg/kq' is not a unit") as refused:
        _preview(uow_factory, net, mapping_id, bad)
    assert refused.value.field == "file"
    with pytest.raises(FileRefused, match="Line 23"):
        _commit(uow_factory, net, preview, bad)
    assert _results(uow_factory) == before


def test_unknown_ids_analytes_and_unit_mismatches_are_listed_and_skipped(
    uow_factory: UowFactory, net: Network
) -> None:
    sample = received_sample(uow_factory, net)
    test = assigned_test(uow_factory, net, sample.id, determination="Heavy metals", method_ref="ICP-MS")
    other_lab = received_sample(uow_factory, net, "local")
    sid = sample.lab_sample_id
    rows = [
        f"{sid},Lead,0.5,mg/kg",  # written
        f"{sid},Unobtainium,1.0,mg/kg",  # unknown analyte
        f"{sid},Cadmium,2.0,ug/L",  # µg/L is a concentration in solution, not a mass fraction
        f"{unique('NOPE')},Lead,0.7,mg/kg",  # no such sample
        f"{other_lab.lab_sample_id},Lead,0.8,mg/kg",  # another laboratory's: unknown here
        f"{sid},Chromium,abc,mg/kg",  # not a number
        f"{sid},Nickel,1.5,mg/kg",
        f"{sid},Ni 60,1.5,mg/kg",  # the same result again
        f"{sid},Copper,1.1,mg/kg",
        f"{sid},Cu 63,1.2,mg/kg",  # a different result for the same measurand
    ]
    content = ("Sample,Analyte,Value,Unit\n" + "\n".join(rows) + "\n").encode()
    mapping_id = mappings.create_mapping(
        uow_factory(),
        net["central_manager"],
        mappings.MappingSave(
            instrument_model="Plain CSV",
            sample_column="Sample",
            analyte_column="Analyte",
            value_column="Value",
            unit_column="Unit",
        ),
    ).id
    preview = _preview(uow_factory, net, mapping_id, content)
    assert [(r.line, r.measurand) for r in preview.rows] == [(2, "element.Pb"), (8, "element.Ni")]
    assert [(s.line, s.reason) for s in preview.skipped] == [
        (3, SkipReason.UNKNOWN_ANALYTE),
        (4, SkipReason.UNIT_MISMATCH),
        (5, SkipReason.UNKNOWN_SAMPLE),
        (6, SkipReason.UNKNOWN_SAMPLE),
        (7, SkipReason.NOT_A_NUMBER),
        (9, SkipReason.DUPLICATE),
        (10, SkipReason.CONFLICTING),
        (11, SkipReason.CONFLICTING),
    ]
    mismatch = preview.skipped[1].detail
    assert "'ug/L' is not a unit of" in mismatch and "element.Cd" in mismatch
    _commit(uow_factory, net, preview, content)
    assert [(n, v) for n, _, v, _ in _stored(uow_factory, test.id)] == [
        ("element.Pb", "0.5"),
        ("element.Ni", "1.5"),
    ]


# -- which test a row goes on ------------------------------------------------------------------------


def test_a_measurands_own_test_takes_it_and_the_multi_analyte_test_the_rest(
    uow_factory: UowFactory, net: Network
) -> None:
    ids, alumina, oxides = {}, [], []
    for name in ("KCS-CCL-2026-00121", "KCS-CCL-2026-00122", "KCS-CCL-2026-00123"):
        sample = received_sample(uow_factory, net)
        ids[name] = sample.lab_sample_id
        alumina.append(
            assigned_test(
                uow_factory, net, sample.id, determination="Alumina (Al2O3) content", method_ref="XRF"
            ).id
        )
        oxides.append(
            assigned_test(uow_factory, net, sample.id, determination="Oxides by XRF", method_ref="XRF").id
        )
    # The last sample has a second multi-analyte XRF test: which one is meant, nobody can tell.
    assigned_test(uow_factory, net, sample.id, determination="Trace oxides", method_ref="XRF fused bead")
    content = renamed(XRF, ids)
    mapping_id = _mapping(uow_factory, net, XRF)
    preview = preview_import(
        uow_factory(), net["analyst"], ImportOptions(mapping_id=mapping_id), ImportFile(XRF, content)
    )
    placed = {(r.sample, r.analyte): r.test_id for r in preview.rows}
    first = ids["KCS-CCL-2026-00121"]
    assert placed[(first, "Al2O3")] == alumina[0] and placed[(first, "SiO2")] == oxides[0]
    assert placed[(ids["KCS-CCL-2026-00123"], "Al2O3")] == alumina[2]
    ambiguous = [s for s in preview.skipped if s.reason is SkipReason.AMBIGUOUS_TEST]
    assert len(ambiguous) == 8 and str(oxides[2]) in ambiguous[0].detail
    assert len(preview.rows) == 9 + 9 + 1
    confirm = ImportConfirm(mapping_id=mapping_id, fingerprint=preview.fingerprint)
    assert commit_import(uow_factory(), net["analyst"], confirm, ImportFile(XRF, content)).written == 19


def test_a_test_of_another_analyst_or_already_submitted_is_skipped(
    uow_factory: UowFactory, net: Network
) -> None:
    content, (first, second) = _icpms_case(uow_factory, net)
    analysis.enter_result(
        uow_factory(), net["analyst"], first, ResultCreate(name="element.Zn", value="5", unit="mg/kg")
    )
    analysis.submit_test(uow_factory(), net["analyst"], first)
    colleague = auth.add_user(
        uow_factory(),
        auth.UserCreate(
            username=unique("analyst"),
            full_name="Second analyst",
            org_code=net.central,
            roles=["analyst"],
            password="correct-horse-battery",
        ),
    )
    analysis.assign_test(
        uow_factory(), net["central_manager"], second, analysis.TestAssign(analyst_id=colleague.id)
    )
    preview = _preview(uow_factory, net, _mapping(uow_factory, net, ICPMS), content)
    assert preview.rows == []
    reasons = {s.reason for s in preview.skipped if s.sample.startswith(net.central)}
    assert reasons == {SkipReason.TEST_NOT_OPEN, SkipReason.NOT_YOURS, SkipReason.EXCLUDED}


# -- the controls of hand entry ----------------------------------------------------------------------


def _spirits_case(uow_factory: UowFactory, net: Network) -> tuple[bytes, int]:
    """A rum of the central laboratory tested for its alcoholic strength on the catalogued method
    CCL-M-022, and the GC-FID export naming it: (file, test id)."""
    sample = received_sample(uow_factory, net, **ETHANOL)
    test_id = _test(uow_factory, net, sample.id, _method(uow_factory, net).id)
    return renamed(GCFID, {"KCS-CCL-2026-00131": sample.lab_sample_id}), test_id


def _gc_preview(uow_factory: UowFactory, net: Network, content: bytes, **opts: Any) -> ImportPreview:
    mapping_id = opts.pop("mapping_id", None) or _mapping(uow_factory, net, GCFID)
    return preview_import(
        uow_factory(),
        net["analyst"],
        ImportOptions(mapping_id=mapping_id, **opts),
        ImportFile(GCFID, content),
    )


def test_an_unauthorised_analyst_is_refused_as_in_hand_entry(uow_factory: UowFactory, net: Network) -> None:
    content, _ = _spirits_case(uow_factory, net)
    preview = _gc_preview(uow_factory, net, content, equipment_id=_instrument(uow_factory, net))
    assert preview.rows == []
    refused = next(s for s in preview.skipped if s.analyte == "Ethanol" and s.reason is SkipReason.REFUSED)
    assert "not authorised as analyst" in refused.detail


def test_an_uncalibrated_or_missing_instrument_is_refused_as_in_hand_entry(
    uow_factory: UowFactory, net: Network
) -> None:
    content, _ = _spirits_case(uow_factory, net)
    _authorise(uow_factory, net, "analyst", "analyst")
    mapping_id = _mapping(uow_factory, net, GCFID)
    for instrument, said in (
        (_instrument(uow_factory, net, next_due_days=None), "never been calibrated"),
        (_instrument(uow_factory, net, next_due_days=-1), "overdue"),
        (None, "Choose the instrument"),
    ):
        preview = _gc_preview(uow_factory, net, content, mapping_id=mapping_id, equipment_id=instrument)
        assert preview.rows == []
        refusal = next(
            s for s in preview.skipped if s.analyte == "Ethanol" and s.sample.startswith(net.central)
        )
        assert refusal.reason is SkipReason.REFUSED and said in refusal.detail, refusal.detail


def test_with_the_authorisation_and_a_calibrated_instrument_the_result_is_entered(
    uow_factory: UowFactory, net: Network
) -> None:
    content, test_id = _spirits_case(uow_factory, net)
    _authorise(uow_factory, net, "analyst", "analyst")
    instrument = _instrument(uow_factory, net)
    preview = _gc_preview(uow_factory, net, content, equipment_id=instrument)
    assert [(r.test_id, r.measurand, str(r.value), r.unit) for r in preview.rows] == [
        (test_id, "alcohol_strength", "40.27", "% v/v")
    ]
    assert {
        (s.sample, s.analyte, s.reason) for s in preview.skipped if s.reason is not SkipReason.EXCLUDED
    } == {
        (preview.rows[0].sample, "Methanol", SkipReason.UNKNOWN_ANALYTE),
        ("KCS-CCL-2026-00132", "Ethanol", SkipReason.UNKNOWN_SAMPLE),  # the vodka is not in this database
        ("KCS-CCL-2026-00132", "Methanol", SkipReason.UNKNOWN_ANALYTE),
    }
    confirm = ImportConfirm(
        mapping_id=preview.mapping_id, equipment_id=instrument, fingerprint=preview.fingerprint
    )
    commit_import(uow_factory(), net["analyst"], confirm, ImportFile(GCFID, content))
    uow = uow_factory()
    with uow:
        (result,) = uow.repo.test(test_id).results
        assert (result.equipment_id, str(result.expanded_uncertainty), str(result.loq)) == (
            instrument,
            "0.35",
            "0.05",
        )


def test_a_control_that_fails_at_commit_refuses_the_whole_import(
    uow_factory: UowFactory, net: Network
) -> None:
    content, _ = _spirits_case(uow_factory, net)
    _authorise(uow_factory, net, "analyst", "analyst")
    instrument = _instrument(uow_factory, net)
    preview = _gc_preview(uow_factory, net, content, equipment_id=instrument)
    assert len(preview.rows) == 1
    equipment.record_maintenance(
        uow_factory(),
        net["central_manager"],
        instrument,
        equipment.MaintenanceCreate(kind="damage", description="FID flame out", out_of_service=True),
    )
    before = _results(uow_factory)
    confirm = ImportConfirm(
        mapping_id=preview.mapping_id, equipment_id=instrument, fingerprint=preview.fingerprint
    )
    with pytest.raises(ValidationFailed, match="Nothing was written") as refused:
        commit_import(uow_factory(), net["analyst"], confirm, ImportFile(GCFID, content))
    assert any("out of service" in e.message and "Line 19" in e.message for e in refused.value.errors)
    assert _results(uow_factory) == before


def test_only_an_analyst_imports_and_only_with_their_laboratorys_mapping_and_instrument(
    uow_factory: UowFactory, net: Network
) -> None:
    content, _ = _icpms_case(uow_factory, net)
    mapping_id = _mapping(uow_factory, net, ICPMS)
    file = ImportFile(ICPMS, content)
    with pytest.raises(PermissionDenied):
        preview_import(uow_factory(), net["central_manager"], ImportOptions(mapping_id=mapping_id), file)
    with pytest.raises(NotFound) as refused:
        preview_import(uow_factory(), net["local_analyst"], ImportOptions(mapping_id=mapping_id), file)
    assert refused.value.field == "mapping_id"
    foreign = equipment.EQUIPMENT.record(
        uow_factory(), net["outsider"], equipment.EquipmentCreate(equipment_id=unique("EQ"), name="XRF")
    ).id
    with pytest.raises(NotFound) as refused:
        preview_import(
            uow_factory(), net["analyst"], ImportOptions(mapping_id=mapping_id, equipment_id=foreign), file
        )
    assert refused.value.field == "equipment_id"


# -- the mappings ------------------------------------------------------------------------------------


def test_a_laboratory_manager_keeps_one_mapping_per_instrument_model(
    uow_factory: UowFactory, net: Network
) -> None:
    manager = net["central_manager"]
    saved = mappings.create_mapping(uow_factory(), manager, mapping_command(ICPMS))
    assert (saved.lab_code, saved.layout.value, saved.unit_aliases) == (net.central, "long", {"ppb": "µg/kg"})
    with pytest.raises(Conflict):
        mappings.create_mapping(
            uow_factory(), manager, mapping_command(ICPMS, instrument_model="agilent 7900 ICP-MS  masshunter")
        )
    with pytest.raises(PermissionDenied):
        mappings.create_mapping(uow_factory(), net["analyst"], mapping_command(XRF))
    changed = mappings.update_mapping(
        uow_factory(), manager, saved.id, mapping_command(ICPMS, test_hint="ICP")
    )
    assert (changed.test_hint, changed.updated_by) == ("ICP", manager.username)
    with pytest.raises(NotFound):
        mappings.update_mapping(uow_factory(), net["outsider"], saved.id, mapping_command(ICPMS))
    listed = mappings.list_mappings(uow_factory(), net["analyst"])
    assert [m.instrument_model for m in listed.mappings] == ["Agilent 7900 ICP-MS MassHunter"]
    assert listed.may_manage is False and mappings.list_mappings(uow_factory(), manager).may_manage is True
    assert (
        mappings.mapping_named(uow_factory(), net["analyst"], "AGILENT 7900 icp-ms masshunter").id == saved.id
    )


def test_a_central_laboratory_reads_the_mappings_of_the_laboratories_under_it(
    uow_factory: UowFactory, net: Network
) -> None:
    local = mappings.create_mapping(uow_factory(), net["local_manager"], mapping_command(GCFID))
    seen = mappings.list_mappings(uow_factory(), net["central_manager"], net.local)
    assert [m.id for m in seen.mappings] == [local.id] and seen.may_manage is False
    assert mappings.mapping_detail(uow_factory(), net["central_manager"], local.id).lab_code == net.local
    with pytest.raises(NotFound):
        mappings.mapping_detail(uow_factory(), net["outsider"], local.id)
    with pytest.raises(NotFound):
        mappings.list_mappings(uow_factory(), net["local_manager"], net.central)
