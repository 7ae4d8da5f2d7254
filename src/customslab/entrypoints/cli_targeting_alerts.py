"""`customslab targeting alerts`: run the targeting alert rules once, from the shell.

For deployments that run them from cron rather than from the worker (which runs them every
CUSTOMSLAB_ALERT_POLL_SECONDS). Safe beside a worker: each alert has a unique key, so of two runs at once
one raises it and the other finds it raised. A first identification alerts at its approval, not here.
"""

from __future__ import annotations

import typer

from customslab.entrypoints.cli_common import DatabaseOption, load_settings, units


def alerts_command(database_url: DatabaseOption = None) -> None:
    """Raise today's rising mismatch-rate and repeated-importer alerts (CUSTOMSLAB_ALERT_* settings) not
    raised yet, and notify those who may see their cases and the administration's administrators."""
    from customslab.entrypoints.wiring import alert_rules
    from customslab.services.targeting_alerts import run_alert_rules

    settings = load_settings(database_url)
    with units(settings) as factory:
        done = run_alert_rules(factory, alert_rules(settings))
    typer.echo(
        f"{done.rising_rates} rising mismatch rate(s), {done.repeated_importers} repeated importer(s); "
        f"{done.notified} notification(s)."
    )
