"""Who may sign in, and as what: users with roles, browser sessions, API tokens.

Passwords are argon2 hashes. Session cookies and API tokens are random values of which only
a SHA-256 is stored, so a copy of the database signs nobody in. Failed sign-ins are
throttled per user name and per address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update

from dispatcher.store.repository import Store
from dispatcher.store.schema import ApiToken, SessionRecord, User

ROLES = ("operator", "coordinator", "admin", "responder", "employee")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
SESSION_TTL = timedelta(hours=12)  # a control-room shift


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    """A signed-in user as a request sees them."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[str]
    person_id: str | None
    language: str
    csrf_token: str | None  # set for browser sessions; API tokens need none

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def actor(self) -> str:
        return f"operator:{self.display_name}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Accounts:
    def __init__(self, store: Store, *, now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now
        self._hasher = PasswordHasher()
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    # ---- users -------------------------------------------------------------------------------

    def add_user(self, username: str, password: str, roles: Iterable[str], *, display_name: str | None = None,
                 person_id: str | None = None, language: str = "nl") -> int:
        username = username.strip().lower()
        roles = sorted(set(roles))
        if not USERNAME.match(username):
            raise AccountError("a user name is 2-64 lower-case letters, digits, '.', '_' or '-'")
        if not roles or not set(roles) <= set(ROLES):
            raise AccountError(f"roles are one or more of {', '.join(ROLES)}")
        _check_password(password)
        with self._store.session() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise AccountError(f"user {username!r} exists already")
            user = User(username=username, display_name=display_name or username, password_hash=self._hasher.hash(
                password), roles=roles, person_id=person_id, language=language if language in ("nl", "en") else "nl",
                active=True, created_at=self._now())
            session.add(user)
            session.flush()
            return user.id

    def set_password(self, username: str, password: str) -> None:
        _check_password(password)
        with self._store.session() as session:
            changed = session.execute(update(User).where(User.username == username.lower())
                                      .values(password_hash=self._hasher.hash(password)))
            if not changed.rowcount:
                raise AccountError(f"no user {username!r}")
            user_id = session.scalar(select(User.id).where(User.username == username.lower()))
            session.execute(delete(SessionRecord).where(SessionRecord.user_id == user_id))  # sign out everywhere

    def update_user(self, user_id: int, *, roles: Iterable[str] | None = None, active: bool | None = None) -> None:
        values: dict[str, object] = {}
        if roles is not None:
            roles = sorted(set(roles))
            if not roles or not set(roles) <= set(ROLES):
                raise AccountError(f"roles are one or more of {', '.join(ROLES)}")
            values["roles"] = roles
        if active is not None:
            values["active"] = active
        with self._store.session() as session:
            if not values:  # nothing to change: only whether the user exists
                if session.get(User, user_id) is None:
                    raise AccountError(f"no user {user_id}")
                return
            if not session.execute(update(User).where(User.id == user_id).values(**values)).rowcount:
                raise AccountError(f"no user {user_id}")
            if active is False:
                session.execute(delete(SessionRecord).where(SessionRecord.user_id == user_id))

    def users(self) -> list[User]:
        with self._store.session() as session:
            return list(session.scalars(select(User).order_by(User.username)))

    # ---- signing in -----------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Principal | None:
        with self._store.session() as session:
            user = session.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None or not user.active:
                self._verify(self._dummy_hash, password)  # the same work, so timing tells nothing
                return None
            if not self._verify(user.password_hash, password):
                return None
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            user.last_login_at = self._now()
            return _principal(user, None)

    def open_session(self, principal: Principal) -> tuple[str, str]:
        """A new browser session: (cookie value, CSRF token)."""
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._now()
        with self._store.session() as session:
            session.add(SessionRecord(id=_digest(cookie), user_id=principal.user_id, csrf_token=csrf,
                                      created_at=now, expires_at=now + SESSION_TTL))
            session.execute(delete(SessionRecord).where(SessionRecord.expires_at < now))
        return cookie, csrf

    def session_principal(self, cookie: str) -> Principal | None:
        with self._store.session() as session:
            found = session.execute(
                select(SessionRecord, User).join(User, User.id == SessionRecord.user_id)
                .where(SessionRecord.id == _digest(cookie))
            ).first()
            if found is None:
                return None
            record, user = found
            if record.expires_at <= self._now() or not user.active:
                return None
            return _principal(user, record.csrf_token)

    def close_session(self, cookie: str) -> None:
        with self._store.session() as session:
            session.execute(delete(SessionRecord).where(SessionRecord.id == _digest(cookie)))

    # ---- API tokens ---------------------------------------------------------------------------------

    def create_token(self, user_id: int, name: str) -> tuple[int, str]:
        """Returns (id, token); the token is shown once and never stored."""
        token = "c4_" + secrets.token_urlsafe(32)
        with self._store.session() as session:
            if session.get(User, user_id) is None:
                raise AccountError(f"no user {user_id}")
            record = ApiToken(user_id=user_id, name=name[:100] or "token", token_hash=_digest(token),
                              created_at=self._now())
            session.add(record)
            session.flush()
            return record.id, token

    def token_principal(self, token: str) -> Principal | None:
        with self._store.session() as session:
            found = session.execute(
                select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
            ).first()
            if found is None or not found[1].active:
                return None
            found[0].last_used_at = self._now()
            return _principal(found[1], None)

    def revoke_token(self, token_id: int) -> bool:
        with self._store.session() as session:
            result = session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                                     .values(revoked_at=self._now()))
            return bool(result.rowcount)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


class LoginThrottle:
    """At most `limit` failed sign-ins per user name and per address in `window` seconds."""

    def __init__(self, *, limit: int = 5, window: float = 900.0) -> None:
        self._limit = limit
        self._window = window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait before trying again; 0 when allowed."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key in keys:
                failures = self._failures[key]
                while failures and failures[0] <= now - self._window:
                    failures.popleft()
                if len(failures) >= self._limit:
                    waits.append(int(failures[0] + self._window - now) + 1)
            return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures[key].append(time.monotonic())

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")


def _principal(user: User, csrf: str | None) -> Principal:
    return Principal(user.id, user.username, user.display_name, frozenset(user.roles), user.person_id,
                     user.language, csrf)
