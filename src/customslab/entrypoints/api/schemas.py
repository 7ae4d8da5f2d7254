"""Request bodies of the JSON API. Field rules the domain owns are checked there, not here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenIn(Body):
    username: str
    password: str


class RequestIn(Body):
    lab_code: str
    declaration_number: str = Field(max_length=60)
    item_number: int = Field(default=1, ge=1)
    declared_hs: str = Field(max_length=20)
    goods_description: str = Field(max_length=4000)
    origin_country: str = Field(max_length=3)
    importer: str = Field(default="", max_length=200)
    declared_value: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, max_length=3)
    reason: str = "classification"
    priority: str = "routine"
    due_date: date | None = None
    requested_determinations: list[str] = Field(default_factory=list, max_length=50)
    question: str = Field(default="", max_length=4000)


class SampleIn(Body):
    description: str = Field(default="", max_length=2000)
    quantity: Decimal = Field(gt=0)
    unit: str = Field(max_length=20)
    seal_number: str = Field(default="", max_length=60)
    retention_days: int | None = Field(default=None, ge=1, le=3650)


class ReceiveIn(Body):
    condition: str = Field(default="", max_length=2000)
    storage_location: str = Field(default="", max_length=120)
    seal_intact: bool = True
    seal_number: str | None = Field(default=None, max_length=60)
    note: str = Field(default="", max_length=2000)


class CustodyIn(Body):
    kind: str
    from_: str = Field(default="", alias="from", max_length=200)
    to: str = Field(default="", max_length=200)
    location: str = Field(default="", max_length=200)
    seal_number: str = Field(default="", max_length=60)
    seal_intact: bool | None = None
    note: str = Field(default="", max_length=2000)
    reason: str | None = Field(default=None, max_length=2000)


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=2000)


class TestIn(Body):
    determination: str = Field(max_length=200)
    method_ref: str = Field(default="", max_length=120)
    method_version_id: int | None = None
    analyst_id: int | None = None


class AssignIn(Body):
    analyst_id: int


class ResultIn(Body):
    name: str = Field(default="", max_length=120)
    value: Decimal | None = None
    unit: str = Field(default="", max_length=40)
    expanded_uncertainty: Decimal | None = Field(default=None, ge=0)
    coverage_factor: Decimal | None = Field(default=None, gt=0)
    lod: Decimal | None = Field(default=None, ge=0)
    loq: Decimal | None = Field(default=None, ge=0)
    observation: str = Field(default="", max_length=4000)
    equipment_id: int | None = None
    qc_batch_id: int | None = None


class ReviewIn(Body):
    approve: bool
    reason: str | None = Field(default=None, max_length=2000)


class ReferIn(Body):
    to_lab: str
    reason: str = Field(max_length=2000)
    sub_sample_quantity: Decimal | None = Field(default=None, gt=0)
    unit: str | None = Field(default=None, max_length=20)
    seal_number: str | None = Field(default=None, max_length=60)


class ShareIn(Body):
    org_code: str
    note: str = Field(default="", max_length=2000)


class UserIn(Body):
    username: str = Field(min_length=1, max_length=80)
    full_name: str = Field(max_length=200)
    org_code: str
    roles: list[str]
    password: str = Field(min_length=8, max_length=200)
    email: str = Field(default="", max_length=200)


class EvaluateIn(Body):
    declared: str = Field(max_length=20)
    results: list[str] = Field(default_factory=list, max_length=100)
    decision_rule: str = "guarded"


class OpinionIn(Body):
    determined_code: str = Field(max_length=20)
    reasoning: str = Field(max_length=20000)
    references: list[str] = Field(default_factory=list, max_length=50)
    decision_rule: str = "guarded"


class IdentifyIn(Body):
    attachment_sha256: str = Field(min_length=64, max_length=64)
    library: str = Field(default="default", max_length=60)
    top: int = Field(default=10, ge=1, le=50)
    keep: bool = False


class PtMeasurandIn(Body):
    measurand: str = Field(max_length=120)
    unit: str = Field(max_length=40)
    assigned_value: float | None = None
    assigned_standard_uncertainty: float | None = Field(default=None, ge=0)
    sigma_pt: float | None = Field(default=None, gt=0)


class PtRoundIn(Body):
    title: str = Field(max_length=200)
    scheme: str = Field(default="", max_length=200)
    participants: list[str] = Field(max_length=200)
    measurands: list[PtMeasurandIn] = Field(max_length=50)


class PtResultIn(Body):
    measurand: str = Field(max_length=120)
    value: float
    standard_uncertainty: float | None = Field(default=None, ge=0)
    expanded_uncertainty: float | None = Field(default=None, ge=0)
