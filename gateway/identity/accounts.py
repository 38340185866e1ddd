"""Who may sign in, and as what: users with roles, browser sessions, API tokens.

Passwords are argon2 hashes. Session cookies and API tokens are random values of which only
a SHA-256 is stored, so a copy of the database signs nobody in. API tokens may expire, and
all of a user's tokens end when their password changes or they are disabled. New passwords
must be hard to guess (gateway/identity/passwords.py); failed sign-ins are slowed by gateway/identity/throttle.py.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import CursorResult, Result, delete, or_, select, update
from sqlalchemy.orm import Session

from dispatcher.store.repository import Store
from dispatcher.store.schema import ApiToken, DeviceSession, PushSubscription, SessionRecord, User
from escalation.weekly import parse_duration_seconds
from gateway.identity.passwords import MIN_LENGTH, password_problem
from gateway.identity.roles import ROLES, Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = MIN_LENGTH
SESSION_TTL = timedelta(hours=12)  # a control-room shift
MAX_TOKEN_LIFETIME = timedelta(days=3650)


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    """A signed-in user as a request sees them."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    person_id: str | None
    language: str
    csrf_token: str | None  # set for browser sessions; API tokens need none

    def has(self, *roles: Role) -> bool:
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
        self._log_key = secrets.token_bytes(32)

    # ---- users -------------------------------------------------------------------------------

    def add_user(self, username: str, password: str, roles: Iterable[str], *, display_name: str | None = None,
                 person_id: str | None = None, language: str = "nl") -> int:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise AccountError("a user name is 2-64 lower-case letters, digits, '.', '_' or '-'")
        roles = _valid_roles(roles)
        _check_password(password, username, display_name, person_id)
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
        """A new password signs the user out everywhere and ends their API tokens: whoever
        knew the old one may have made either."""
        with self._store.session() as session:
            user = session.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None:
                raise AccountError(f"no user {username!r}")
            _check_password(password, user.username, user.display_name, user.person_id)
            user.password_hash = self._hasher.hash(password)
            self._end_access(session, user.id)

    def update_user(self, user_id: int, *, roles: Iterable[str] | None = None, active: bool | None = None) -> None:
        values: dict[str, object] = {}
        if roles is not None:
            values["roles"] = _valid_roles(roles)
        if active is not None:
            values["active"] = active
        with self._store.session() as session:
            if not values:  # nothing to change: only whether the user exists
                if session.get(User, user_id) is None:
                    raise AccountError(f"no user {user_id}")
                return
            if not _changed(session.execute(update(User).where(User.id == user_id).values(**values))):
                raise AccountError(f"no user {user_id}")
            if active is False:  # stays so when enabled again: they get new tokens
                self._end_access(session, user_id)

    def _end_access(self, session: Session, user_id: int) -> None:
        session.execute(delete(SessionRecord).where(SessionRecord.user_id == user_id))
        session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                        .values(revoked_at=self._now()))
        # The app's device sign-ins too, and the pushes to those devices.
        devices = select(DeviceSession.id).where(DeviceSession.user_id == user_id).scalar_subquery()
        session.execute(delete(PushSubscription).where(PushSubscription.device_session_id.in_(devices)))
        session.execute(update(DeviceSession).where(DeviceSession.user_id == user_id,
                                                    DeviceSession.revoked_at.is_(None)).values(revoked_at=self._now()))

    def users(self) -> list[User]:
        with self._store.session() as session:
            return list(session.scalars(select(User).order_by(User.username)))

    def user_named(self, username: str) -> User | None:
        with self._store.session() as session:
            return session.scalar(select(User).where(User.username == username.strip().lower()))

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

    def create_token(self, user_id: int, name: str, *, expires_in: timedelta | None = None) -> tuple[int, str]:
        """Returns (id, token); the token is shown once and never stored. Without
        `expires_in` it lasts until revoked."""
        if expires_in is not None and not timedelta(0) < expires_in <= MAX_TOKEN_LIFETIME:
            raise AccountError(f"a token lasts longer than zero and at most {MAX_TOKEN_LIFETIME.days} days")
        token = "c4_" + secrets.token_urlsafe(32)
        now = self._now()
        with self._store.session() as session:
            if session.get(User, user_id) is None:
                raise AccountError(f"no user {user_id}")
            record = ApiToken(user_id=user_id, name=name[:100] or "token", token_hash=_digest(token),
                              created_at=now, expires_at=now + expires_in if expires_in else None)
            session.add(record)
            session.flush()
            return record.id, token

    def tokens(self, user_id: int) -> list[ApiToken]:
        """A user's tokens, oldest first, revoked and expired ones too (never the token itself)."""
        with self._store.session() as session:
            if session.get(User, user_id) is None:
                raise AccountError(f"no user {user_id}")
            return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))

    def token_principal(self, token: str) -> Principal | None:
        with self._store.session() as session:
            found = session.execute(
                select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None),
                       or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > self._now()))
            ).first()
            if found is None or not found[1].active:
                return None
            found[0].last_used_at = self._now()
            return _principal(found[1], None)

    def revoke_token(self, token_id: int) -> bool:
        with self._store.session() as session:
            result = session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                                     .values(revoked_at=self._now()))
            return bool(_changed(result))

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def log_name(self, username: str) -> str:
        """A user name fit for the log: a known user's as it is; an unknown one (often a
        password typed in the wrong field) only as a keyed digest, the same within one run so
        that repeated tries can be told apart."""
        name = username.strip().lower()
        if USERNAME.match(name) and self.user_named(name) is not None:
            return name
        return "unknown:" + hmac.new(self._log_key, name.encode(), hashlib.sha256).hexdigest()[:12]


def token_lifetime(value: object) -> timedelta:
    """A token's lifetime as the agreement file writes durations: '90d', '12h', '1d12h', or seconds."""
    try:
        seconds = parse_duration_seconds(value)
    except ValueError:
        raise AccountError(f"{value!r} is not a lifetime; write it like '90d', '12h' or '30m'") from None
    if seconds > MAX_TOKEN_LIFETIME.total_seconds():
        raise AccountError(f"a token lasts at most {MAX_TOKEN_LIFETIME.days} days; "
                           "leave the expiry out for one that lasts until revoked")
    return timedelta(seconds=seconds)


def _valid_roles(roles: Iterable[str]) -> list[str]:
    """One or more known roles, each once, as stored: plain strings, sorted."""
    chosen = sorted({str(role) for role in roles})
    if not chosen or not set(chosen) <= set(ROLES):
        raise AccountError(f"roles are one or more of {', '.join(ROLES)}")
    return chosen


def _changed(result: Result[Any]) -> int:
    """Rows an UPDATE changed: an UPDATE's result is a cursor result, typed as any result."""
    return cast(CursorResult[Any], result).rowcount


def _check_password(password: str, *own_words: str | None) -> None:
    words = [part for word in own_words if word for part in re.split(r"[\s._-]+", word)]
    if problem := password_problem(password, [*words, *(w for w in own_words if w)]):
        raise AccountError(problem)


def _principal(user: User, csrf: str | None) -> Principal:
    roles = frozenset(Role(role) for role in user.roles if role in ROLES)  # add_user lets no other in
    return Principal(user.id, user.username, user.display_name, roles, user.person_id, user.language, csrf)
