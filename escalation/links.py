"""Signed, expiring links to the one-tap responder page, one per page sent.

The token names only the page (and so one alarm and one recipient); anyone holding it may
answer for that page, which is why it expires and travels only to that person. The clock is
the service's, so tests can let a link expire without waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from escalation.ids import PageId

SALT = "code4-responder-link"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


class ResponderLinks:
    def __init__(self, *, secret: str, public_url: str, ttl_s: int, now: Callable[[], datetime]) -> None:
        self._public_url = public_url.rstrip("/")
        self._ttl_s = ttl_s
        clock = now

        class _Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock().timestamp())

        self._serializer = URLSafeTimedSerializer(secret, salt=SALT, signer=_Signer)

    def token(self, page_id: str) -> str:
        return str(self._serializer.dumps({"p": page_id}))

    def url(self, page_id: str) -> str:
        return f"{self._public_url}/r/{self.token(page_id)}"

    def page_id(self, token: str) -> PageId:
        try:
            data = self._serializer.loads(token, max_age=self._ttl_s)
        except SignatureExpired:
            raise LinkExpired from None
        except BadSignature:
            raise LinkInvalid from None
        if not isinstance(data, dict) or not isinstance(page := data.get("p"), str):
            raise LinkInvalid
        try:
            return PageId.parse(page)
        except ValueError:
            raise LinkInvalid from None
