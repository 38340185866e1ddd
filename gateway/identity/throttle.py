"""Slowing down password guessing without letting anyone lock a user out.

Failures are counted per (user name, address) pair: after a few free tries each further one
doubles the wait, up to a cap. Someone guessing from another address slows only themselves,
so an attacker cannot keep the operator out of the control room. A much higher ceiling per
address (a leaky bucket) slows spraying many user names from one address. Both tables are
bounded (least recently failed first out, idle entries forgotten), and time comes from an
injected monotonic clock so tests need no sleeps.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class _Pair:
    failures: int
    last: float


@dataclass
class _Bucket:
    level: float
    at: float


class LoginThrottle:
    """Check with `attempt` before verifying a password; it counts the try as a failure at
    once (so parallel guesses are throttled like sequential ones) until `succeeded` says
    otherwise."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, free: int = 3, base: float = 1.0,
                 cap: float = 120.0, forget_after: float = 3600.0, address_limit: int = 100,
                 address_window: float = 900.0, max_keys: int = 10_000) -> None:
        self._clock = clock
        self._free = free
        self._base = base
        self._cap = cap
        self._forget_after = forget_after
        self._address_limit = address_limit
        self._leak = address_limit / address_window  # failures per second the bucket forgets
        self._address_window = address_window
        self._max_keys = max_keys
        self._pairs: OrderedDict[tuple[str, str], _Pair] = OrderedDict()
        self._addresses: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def delay(self, failures: int) -> float:
        """The wait after `failures` failures in a row of one user name from one address."""
        if failures < self._free:
            return 0.0
        return min(self._cap, self._base * 2.0 ** min(failures - self._free, 32))

    def attempt(self, username: str, address: str) -> float:
        """Seconds to wait before this user name may be tried from this address; 0 means go
        ahead, and the try counts as a failure until `succeeded`."""
        where = address_key(address)
        pair = (_user_key(username), where)
        with self._lock:
            now = self._clock()
            self._forget(now)
            known = self._pairs.get(pair)
            bucket = self._addresses.get(where)
            level = self._level(bucket, now)
            waits = [0.0]
            if known is not None:
                waits.append(known.last + self.delay(known.failures) - now)
            if level + 1 > self._address_limit:
                waits.append((level + 1 - self._address_limit) / self._leak)
            wait = max(waits)
            if wait > 0:
                return wait
            self._pairs[pair] = _Pair((known.failures if known else 0) + 1, now)
            self._pairs.move_to_end(pair)
            self._addresses[where] = _Bucket(level + 1, now)
            self._addresses.move_to_end(where)
            _bound(self._pairs, self._max_keys)
            _bound(self._addresses, self._max_keys)
            return 0.0

    def succeeded(self, username: str, address: str) -> None:
        """The password was right: forget this pair's failures and don't count the try."""
        where = address_key(address)
        with self._lock:
            self._pairs.pop((_user_key(username), where), None)
            if (bucket := self._addresses.get(where)) is not None:
                bucket.level = max(0.0, bucket.level - 1)

    def __len__(self) -> int:
        """Entries held (pairs and addresses), for tests of the bound."""
        with self._lock:
            return len(self._pairs) + len(self._addresses)

    def _level(self, bucket: _Bucket | None, now: float) -> float:
        return 0.0 if bucket is None else max(0.0, bucket.level - (now - bucket.at) * self._leak)

    def _forget(self, now: float) -> None:
        # Both tables are in order of last failure: the idle ones are at the front.
        while self._pairs and next(iter(self._pairs.values())).last <= now - self._forget_after:
            self._pairs.popitem(last=False)
        while self._addresses and next(iter(self._addresses.values())).at <= now - self._address_window:
            self._addresses.popitem(last=False)


def address_key(host: str) -> str:
    """IPv4 addresses as they are; IPv6 by their /64, which one subscriber usually has whole."""
    try:
        parsed = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _user_key(username: str) -> str:
    # A digest: bounded in size, and what people type into the name field is not kept as text.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _bound(table: OrderedDict[K, V], size: int) -> None:
    while len(table) > size:
        table.popitem(last=False)
