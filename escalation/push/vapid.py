"""code4's VAPID key pair (RFC 8292): made on first start, kept in the data directory (never in
the repository), the public half served to the app as its `applicationServerKey`."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02

CLAIM_LIFETIME_S = 12 * 3600  # RFC 8292: at most 24 hours


class VapidKeys:
    def __init__(self, vapid: Vapid02, subject: str) -> None:
        self._vapid = vapid
        self._subject = subject

    @classmethod
    def load_or_create(cls, path: Path, subject: str) -> VapidKeys:
        """The key at `path`, made (readable by this account only) when there is none yet."""
        if not path.exists():
            vapid = Vapid02()
            vapid.generate_keys()
            partial = path.with_suffix(".tmp")
            partial.write_bytes(vapid.private_pem())
            partial.chmod(0o600)
            partial.replace(path)
        return cls(Vapid02.from_file(str(path)), subject)

    @property
    def public_key(self) -> str:
        """The uncompressed P-256 point, base64url without padding: what `pushManager.subscribe` takes."""
        raw = self._vapid.public_key.public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def authorization(self, endpoint: str, now_s: int) -> str:
        """`Authorization: vapid t=…,k=…` for a push to `endpoint` (aud: its origin)."""
        parts = urlsplit(endpoint)
        claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": now_s + CLAIM_LIFETIME_S, "sub": self._subject}
        headers: dict[str, str] = self._vapid.sign(claims)
        return headers["Authorization"]
