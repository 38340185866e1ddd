"""Cancel and duress PINs are never stored: an alarm's plan holds a keyed digest of each, and a
cancel is compared by its digest.

The digest is HMAC-SHA256 over the device id and the PIN, with a key derived from the service's
secret (kept outside the database), so a copy of the database does not give away a PIN even
though a PIN has only a few thousand possible values.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


class PinDigests:
    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        self._key = hmac.new(raw, b"code4 cancel and duress PINs", hashlib.sha256).digest()

    @classmethod
    def ephemeral(cls) -> PinDigests:
        """For plans that are only shown (`code4 check`), never stored or compared."""
        return cls(secrets.token_bytes(32))

    def __call__(self, device_id: str, pin: str) -> str:
        return hmac.new(self._key, f"{device_id}\0{pin}".encode(), hashlib.sha256).hexdigest()
