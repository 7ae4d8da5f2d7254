"""Choices offered on the HS evaluation page."""

from __future__ import annotations

#: ISO/IEC 17025 7.8.6 decision rules the evaluation panel lets the user choose between.
DECISION_RULES = ("guarded", "simple")

#: What the evaluation page says when none of the sample's results is a quantity the rules know.
NO_RESULTS = "No result of this sample can be used by the HS rules."
