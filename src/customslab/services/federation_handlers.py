"""What each kind of received message does: the ordinary use case it calls, by message kind.

The inbox (`services/federation_inbox.py`) has verified the signature, the sender's trust, idempotency
and order before it calls a handler, inside the unit of work that also records the message; a handler
raises a domain error to refuse the message (nothing is stored then).
"""

from __future__ import annotations

from collections.abc import Callable

from customslab.domain.federation import Envelope, MessageKind, Partner
from customslab.services.ports import AbstractUnitOfWork

Handler = Callable[[AbstractUnitOfWork, Partner, Envelope], None]


def handlers() -> dict[MessageKind, Handler]:
    """Each message kind's handler (imported here so that the use-case modules need not know each other)."""
    found: dict[MessageKind, Handler] = {}
    # Each federation use-case module adds its handlers below, one line each.
    from customslab.services import federation_partners

    found[MessageKind.KEY_ROTATED] = federation_partners.on_key_rotated
    from customslab.services import federation_shared

    found[MessageKind.KNOWLEDGE_SHARED] = federation_shared.on_knowledge_shared
    from customslab.services import federation_referral_handlers as referrals

    found[MessageKind.REFERRAL_REQUESTED] = referrals.referral_requested
    found[MessageKind.TASK_STATUS] = referrals.task_status_changed
    from customslab.services import federation_referral_replies as replies

    found[MessageKind.RESULTS_ISSUED] = replies.results_issued
    return found
