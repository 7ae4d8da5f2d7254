"""What a sample's classification stands at: the approved opinion, the drafts still open, and what the HS
measurement rules decide on the released results. The test report and the officer's request page both
read it from here, so they never disagree."""

from __future__ import annotations

from collections.abc import Sequence

from customslab.domain.model import AnalysisRequest, ClassificationOpinion, Sample
from customslab.hs.evaluate import Evaluation, evaluate
from customslab.hs.nomenclature import HsError
from customslab.services.classification import sample_measurements


def approved_opinion(opinions: Sequence[ClassificationOpinion]) -> ClassificationOpinion | None:
    """The laboratory's opinion in force: the latest approved one (never a draft)."""
    approved = [o for o in opinions if o.state == "approved"]
    return max(approved, key=lambda o: (o.reviewed_at or o.created_at, o.id or 0)) if approved else None


def open_drafts(opinions: Sequence[ClassificationOpinion]) -> list[ClassificationOpinion]:
    """Drafts written since the opinion in force (all drafts when none is approved): the opinion the
    laboratory is still working on. An older draft that another opinion overtook is not open."""
    current = approved_opinion(opinions)
    drafts = [o for o in opinions if o.state == "draft"]
    if current is None:
        return drafts
    return [o for o in drafts if (o.created_at, o.id or 0) > (current.created_at, current.id or 0)]


def measurement_verdict(sample: Sample, req: AnalysisRequest, language: str = "en") -> Evaluation | None:
    """The HS rules on the sample's released (approved) results, worded in `language` (en, ko); None
    when no result is one they read."""
    measurements, _ = sample_measurements(sample, released_only=True)
    if not measurements:
        return None
    try:
        return evaluate(req.declared_hs, measurements, language="ko" if language == "ko" else "en")
    except HsError:
        return None  # a declared code the catalogue cannot read: the rules have nothing to say
