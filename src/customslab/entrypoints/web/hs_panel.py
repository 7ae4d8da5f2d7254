"""Choices offered on the HS evaluation page."""

from __future__ import annotations

#: ISO/IEC 17025 7.8.6 decision rules the evaluation panel lets the user choose between.
DECISION_RULES = ("guarded", "simple")
