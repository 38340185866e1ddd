"""`code4 users …`: who may sign in: users, passwords and their API tokens."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gateway.identity.accounts import ROLES
from gateway.web.i18n import LANGUAGES

if TYPE_CHECKING:
    from dispatcher.store.repository import Store
    from gateway.identity.accounts import Accounts
    from gateway.identity.devices import DeviceSessions


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("users", help="who may sign in: add users, passwords, API tokens")
    user_commands = users.add_subparsers(title="user commands")
    _register_users(user_commands)
    _register_tokens(user_commands)
    _register_devices(user_commands)


def _register_users(user_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add = user_commands.add_parser("add", help="add a user (the first admin, too); asks for the password")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True,
                     choices=list(ROLES), help="give once per role")
    add.add_argument("--name", help="the name shown on the timeline (default: the user name)")
    add.add_argument("--person", help="the person in the agreement file (for responders)")
    add.add_argument("--language", choices=list(LANGUAGES), default="nl")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=_users_add)
    passwd = user_commands.add_parser("passwd", help="set a new password (signs the user out everywhere and "
                                                     "ends their API tokens)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=_users_passwd)
    listing = user_commands.add_parser("list", help="list users and their roles")
    listing.set_defaults(func=_users_list)


def _register_tokens(user_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = user_commands.add_parser("token", help="create an API token for a user (shown once)")
    token.add_argument("username")
    token.add_argument("--name", default="api", help="what the token is for")
    token.add_argument("--expires", metavar="DURATION",
                       help="it ends after this long, like '90d' or '12h' (default: when revoked)")
    token.set_defaults(func=_users_token)
    tokens = user_commands.add_parser("tokens", help="list a user's API tokens with their ids (never the tokens)")
    tokens.add_argument("username")
    tokens.set_defaults(func=_users_tokens)
    revoke = user_commands.add_parser("revoke-token", help="end an API token now (its id from 'users tokens')")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_users_revoke_token)


def _register_devices(user_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    devices = user_commands.add_parser("devices", help="list a user's sign-ins of the responder app (/app)")
    devices.add_argument("username")
    devices.set_defaults(func=_users_devices)
    revoke = user_commands.add_parser("revoke-device", help="sign a phone out of the app now (a lost phone); "
                                                            "it gets no more pushes")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_users_revoke_device)


def _device_sessions() -> DeviceSessions:
    from dispatcher.clock import SystemClock
    from dispatcher.store.push import PushSubscriptionStore
    from gateway.identity.devices import DeviceSessions

    store = _store()
    now = SystemClock().now
    return DeviceSessions(store, now=now, on_revoke=PushSubscriptionStore(store, now=now).forget_device)


def _users_devices(args: argparse.Namespace) -> int:
    user = _accounts().user_named(args.username)
    if user is None:
        print(f"no user {args.username}", file=sys.stderr)
        return 1
    print(f"{'ID':>5}  {'DEVICE':<20} {'SIGNED IN':<16}  {'LAST USED':<16}  STATE")
    for d in _device_sessions().of_user(user.id):
        print(f"{d.id:>5}  {d.name[:20]:<20} {_local(d.created_at):<16}  {_local(d.last_used_at):<16}  "
              f"{'revoked' if d.revoked else 'active'}")
    return 0


def _users_revoke_device(args: argparse.Namespace) -> int:
    if not _device_sessions().revoke(args.id):
        print(f"no active device sign-in {args.id}", file=sys.stderr)
        return 1
    print(f"device sign-in {args.id} revoked")
    return 0


def _store() -> Store:
    from dispatcher.store.repository import Store
    from gateway.settings import Settings

    settings = Settings.load()
    store = Store(settings.effective_database_url)
    store.migrate()
    return store


def _accounts() -> Accounts:
    from dispatcher.clock import SystemClock
    from gateway.identity.accounts import Accounts

    return Accounts(_store(), now=SystemClock().now)


def _password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 12 characters; a few unrelated words are best): ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def _users_add(args: argparse.Namespace) -> int:
    from gateway.identity.accounts import AccountError

    accounts = _accounts()
    try:
        accounts.add_user(args.username, _password(args.password_stdin), args.role,
                          display_name=args.name, person_id=args.person, language=args.language)
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"added {args.username} ({', '.join(sorted(set(args.role)))})")
    return 0


def _users_passwd(args: argparse.Namespace) -> int:
    from gateway.identity.accounts import AccountError

    try:
        _accounts().set_password(args.username, _password(args.password_stdin))
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"password of {args.username} changed; signed out everywhere and their API tokens ended")
    return 0


def _users_list(_: argparse.Namespace) -> int:
    for user in _accounts().users():
        state = "" if user.active else "  (disabled)"
        print(f"{user.username:<20} {', '.join(user.roles):<30} {user.display_name}{state}")
    return 0


def _users_token(args: argparse.Namespace) -> int:
    from gateway.identity.accounts import AccountError, token_lifetime

    try:
        lifetime = token_lifetime(args.expires) if args.expires else None
    except AccountError as exc:
        print(f"--expires: {exc}", file=sys.stderr)
        return 2
    accounts = _accounts()
    user = accounts.user_named(args.username)
    if user is None:
        print(f"no user {args.username}", file=sys.stderr)
        return 1
    token_id, token = accounts.create_token(user.id, args.name, expires_in=lifetime)
    made = next(t for t in accounts.tokens(user.id) if t.id == token_id)
    until = f"expires {_local(made.expires_at)}" if made.expires_at else "lasts until revoked"
    print(f"token {token_id} ({args.name}) for {user.username}, {until}; shown once:", file=sys.stderr)
    print(token)  # alone on standard output, for scripts
    return 0


def _users_tokens(args: argparse.Namespace) -> int:
    accounts = _accounts()
    user = accounts.user_named(args.username)
    if user is None:
        print(f"no user {args.username}", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    print(f"{'ID':>5}  {'NAME':<20} {'CREATED':<16}  {'LAST USED':<16}  {'EXPIRES':<16}  STATE")
    for t in accounts.tokens(user.id):
        state = (f"revoked {_local(t.revoked_at)}" if t.revoked_at else
                 "expired" if t.expires_at and t.expires_at <= now else "active")
        print(f"{t.id:>5}  {t.name[:20]:<20} {_local(t.created_at):<16}  {_local(t.last_used_at):<16}  "
              f"{_local(t.expires_at):<16}  {state}")
    return 0


def _users_revoke_token(args: argparse.Namespace) -> int:
    if not _accounts().revoke_token(args.id):
        print(f"no active token {args.id}", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked")
    return 0


def _local(moment: datetime | None) -> str:
    """A moment as this machine's local time, to the minute; '-' for none."""
    return f"{moment.astimezone():%Y-%m-%d %H:%M}" if moment else "-"
