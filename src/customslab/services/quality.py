"""The ISO/IEC 17025 registers of a laboratory, each declared once in its own module.

- `quality_methods`: the method catalogue (validate, withdraw, publish, adopt);
- `quality_equipment`: instruments with their calibrations and maintenance, and reference materials;
- `quality_control`: training and authorisations of staff, and QC batches with corrective actions.

A register is a `quality_register.Register`, a change to one of its entries a `Step`; this index lists
them all, for the API to route and for the tests to cover each one.
"""

from __future__ import annotations

from customslab.services.quality_control import (
    AUTHORISATIONS,
    QC_BATCHES,
    TRAINING,
    assert_batch_entry_releasable,
    lab_authorisations,
    record_corrective_action,
    revoke_authorisation,
)
from customslab.services.quality_equipment import (
    EQUIPMENT,
    REFERENCE_MATERIALS,
    record_calibration,
    record_maintenance,
)
from customslab.services.quality_methods import (
    METHODS,
    adopt_method,
    publish_method,
    validate_method_version,
    withdraw_method_version,
)
from customslab.services.quality_register import own_entry, require_role

#: Every register, in the order the API documents them.
REGISTERS = (METHODS, EQUIPMENT, REFERENCE_MATERIALS, TRAINING, AUTHORISATIONS, QC_BATCHES)
#: Every step of an entry, each a use case and a route.
STEPS = (
    validate_method_version,
    withdraw_method_version,
    publish_method,
    adopt_method,
    record_calibration,
    record_maintenance,
    revoke_authorisation,
    record_corrective_action,
)

#: What the analysis and proficiency use cases take from here.
__all__ = [
    "REGISTERS",
    "STEPS",
    "assert_batch_entry_releasable",
    "lab_authorisations",
    "own_entry",
    "require_role",
]
