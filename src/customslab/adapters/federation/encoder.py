"""Turns an outbox envelope into the exact bytes that travel: a signed FHIR message bundle.

Used at a message's first delivery attempt (the bytes are then stored and resent as they are), and again
should the key that signed them end before they are delivered (`signed_with` names that key).
Results get their report statement signed here, with the key that signs the bundle; a key rotation is
signed with the OLD key, the one its receivers already trust.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from customslab.adapters.federation import fhir_codec
from customslab.adapters.federation.keys import DeploymentKey, KeyFolder
from customslab.adapters.federation.signing import (
    bundle_text,
    claimed_signer,
    sign_bundle,
    with_report_signature,
)
from customslab.domain.federation import Envelope, KeyRotated
from customslab.services.federation_ports import EncodedMessage

#: The current key is read again after this long (a rotation takes effect within it).
KEY_CACHE_SECONDS = 30.0


class BundleEncoder:
    """A `MessageEncoder`: FHIR bundle (fhir_codec), report signature, bundle signature, sha256."""

    def __init__(
        self,
        current_key: Callable[[], DeploymentKey],
        key_folder: KeyFolder,
        sender_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache_seconds: float = KEY_CACHE_SECONDS,
    ) -> None:
        self.current_key = current_key
        self.key_folder = key_folder
        self.sender_url = sender_url
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, DeploymentKey] | None = None

    def _current(self) -> DeploymentKey:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > self.cache_seconds:
            self._cached = (now, self.current_key())
        return self._cached[1]

    def key_for(self, envelope: Envelope) -> DeploymentKey:
        """The key that signs this envelope: the old one for a rotation, the current one otherwise."""
        if isinstance(envelope.body, KeyRotated):
            return self.key_folder.load(envelope.body.old_key_id)
        return self._current()

    def __call__(self, envelope: Envelope) -> EncodedMessage:
        if not self.sender_url:
            raise ValueError(
                "CUSTOMSLAB_PUBLIC_URL is not set: a message must name the URL partners reach this server at."
            )
        key = self.key_for(envelope)
        envelope = with_report_signature(envelope, key)
        bundle = fhir_codec.encode(envelope, self.sender_url)
        text = bundle_text(sign_bundle(bundle, envelope.sender, key, self.clock()))
        return EncodedMessage(text, hashlib.sha256(text.encode("utf-8")).hexdigest())

    def signed_with(self, body: str) -> str | None:
        """The key id the bundle's signature names; None for text that is not a signed bundle."""
        try:
            bundle = json.loads(body)
            return claimed_signer(bundle)[1] if isinstance(bundle, dict) else None
        except ValueError:  # not JSON, or no signature (MalformedMessage is a ValueError)
            return None
