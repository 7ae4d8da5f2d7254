"""The ISO/IEC 17025 quality core: methods, equipment, competence, QC, proficiency and report data.

Pure Python; services call the `assert_*` functions before acting and translate `QualityError`.
"""

from customslab.domain.quality.competence import assert_analyst_authorised, assert_reviewer_authorised
from customslab.domain.quality.control_charts import assert_batch_releasable, evaluate_batch, westgard
from customslab.domain.quality.equipment import assert_usable, due_list
from customslab.domain.quality.errors import (
    AnalystNotAuthorised,
    BatchOutOfControl,
    EquipmentNotUsable,
    MethodNotValidated,
    MethodTransitionError,
    ProficiencyDataError,
    QualityError,
    ReviewerNotAuthorised,
)
from customslab.domain.quality.methods import assert_usable_for_test
from customslab.domain.quality.proficiency import algorithm_a, evaluate_round
from customslab.domain.quality.report import ReportData

__all__ = [
    "AnalystNotAuthorised",
    "BatchOutOfControl",
    "EquipmentNotUsable",
    "MethodNotValidated",
    "MethodTransitionError",
    "ProficiencyDataError",
    "QualityError",
    "ReportData",
    "ReviewerNotAuthorised",
    "algorithm_a",
    "assert_analyst_authorised",
    "assert_batch_releasable",
    "assert_reviewer_authorised",
    "assert_usable",
    "assert_usable_for_test",
    "due_list",
    "evaluate_batch",
    "evaluate_round",
    "westgard",
]
