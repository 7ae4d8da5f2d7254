"""The targeting dashboard's one view: the figures of the period, the alerts the reader may see, and
whether they may download the risk indicators. The page and /targeting.json both render it (compute once,
render many); each part is its own use case's view, unchanged."""

from __future__ import annotations

from pydantic import Field

from customslab.domain.access import PERMISSIONS, Action, Actor
from customslab.services.contract import View
from customslab.services.ports import AbstractUnitOfWork
from customslab.services.targeting import TargetingFigures, TargetingQuery, targeting_figures
from customslab.services.targeting_alerts import AlertQuery, AlertView, visible_alerts

#: The newest alerts the dashboard lists; the notification list keeps them all.
ALERTS_SHOWN = 20


class TargetingDashboard(View):
    """What the targeting page shows."""

    figures: TargetingFigures
    alerts: list[AlertView] = Field(description="The newest alerts I may see, newest first.")
    may_export: bool = Field(description="Whether I may download the risk-indicator export.")


def targeting_dashboard(uow: AbstractUnitOfWork, actor: Actor, query: TargetingQuery) -> TargetingDashboard:
    """The targeting figures of the period with the reader's alerts, for the page and its JSON."""
    figures = targeting_figures(uow, actor, query)
    alerts = visible_alerts(uow, actor, AlertQuery(limit=ALERTS_SHOWN))
    may_export = bool(actor.roles & PERMISSIONS[Action.EXPORT_RISK_INDICATORS])
    # The export holds the reader's own administration only: network figures have no download.
    return TargetingDashboard(
        figures=figures, alerts=alerts, may_export=may_export and figures.scope == "administration"
    )
