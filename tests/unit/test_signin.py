"""Signing in: the throttle that slows guessing without locking anyone out, and the rules for
new passwords. The throttle runs on a fake monotonic clock: no sleeps."""

from __future__ import annotations

import pytest

from gateway.identity.passwords import password_problem
from gateway.identity.throttle import LoginThrottle, address_key


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, user: str, address: str, times: int) -> None:
    for _ in range(times):
        assert throttle.attempt(user, address) == 0, "this try should have been let through"


def test_repeated_failures_of_one_pair_wait_longer_and_longer_up_to_a_cap() -> None:
    ticks = Ticks()
    throttle = LoginThrottle(clock=ticks, free=3, base=1.0, cap=60.0)
    fail(throttle, "ria", "203.0.113.9", 3)  # three typing errors cost nothing
    waits = []
    for _ in range(9):
        wait = throttle.attempt("ria", "203.0.113.9")
        waits.append(wait)
        ticks.now += wait
        assert throttle.attempt("ria", "203.0.113.9") == 0  # after waiting, one more try
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_failures_from_another_address_never_keep_the_user_out() -> None:
    ticks = Ticks()
    throttle = LoginThrottle(clock=ticks)
    fail(throttle, "ria", "198.51.100.66", 3)
    assert throttle.attempt("ria", "198.51.100.66") > 0, "the guesser is slowed"
    assert throttle.attempt("ria", "192.0.2.10") == 0, "the operator at her own desk is not"


def test_a_right_password_forgets_the_pairs_failures() -> None:
    ticks = Ticks()
    throttle = LoginThrottle(clock=ticks)
    fail(throttle, "ria", "192.0.2.10", 2)
    assert throttle.attempt("ria", "192.0.2.10") == 0
    throttle.succeeded("ria", "192.0.2.10")
    fail(throttle, "ria", "192.0.2.10", 3)  # three fresh free tries


def test_parallel_guesses_count_before_their_passwords_are_checked() -> None:
    throttle = LoginThrottle(clock=Ticks(), free=3)
    allowed = [throttle.attempt("ria", "198.51.100.66") == 0 for _ in range(10)]  # none answered yet
    assert allowed == [True] * 3 + [False] * 7


def test_one_address_spraying_many_names_hits_the_address_ceiling_and_recovers() -> None:
    ticks = Ticks()
    throttle = LoginThrottle(clock=ticks, address_limit=20, address_window=600.0)
    for n in range(20):
        assert throttle.attempt(f"user{n}", "198.51.100.66") == 0
    assert throttle.attempt("someone-else", "198.51.100.66") == pytest.approx(30.0)  # 20 per 600 s leaks 1 per 30 s
    assert throttle.attempt("someone-else", "192.0.2.10") == 0, "other addresses are not affected"
    ticks.now += 30
    assert throttle.attempt("someone-else", "198.51.100.66") == 0


def test_memory_is_bounded_and_idle_entries_are_forgotten() -> None:
    ticks = Ticks()
    throttle = LoginThrottle(clock=ticks, max_keys=50, forget_after=3600.0, address_window=900.0)
    for n in range(500):
        throttle.attempt(f"user{n}", f"10.0.{n // 250}.{n % 250}")
    assert len(throttle) <= 100  # 50 pairs and 50 addresses at most
    fail(throttle, "ria", "198.51.100.66", 3)
    assert throttle.attempt("ria", "198.51.100.66") > 0
    ticks.now += 3601
    assert throttle.attempt("ria", "198.51.100.66") == 0, "an hour without failures: forgotten"
    assert len(throttle) == 2


def test_an_ipv6_subscriber_counts_as_one_address() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.10") == "192.0.2.10"
    assert address_key("203.0.113.9") == "203.0.113.9"
    throttle = LoginThrottle(clock=Ticks(), address_limit=2)
    fail(throttle, "a", "2001:db8:1:2::1", 1)
    fail(throttle, "b", "2001:db8:1:2::2", 1)
    assert throttle.attempt("c", "2001:db8:1:2::3") > 0


@pytest.mark.parametrize("password", [
    "password1234", "qwertyuiop12", "Welkom01!2345", "Welkom2024!!", "Summer2024!!", "P@ssw0rd1234",
    "123456789012", "aaaaaaaaaaaa", "Wachtwoord123", "iloveyou1234", "Geheim!12345",
])
def test_common_passwords_are_refused_with_a_reason(password: str) -> None:
    problem = password_problem(password)
    assert problem is not None and problem.startswith("this password is too easy to guess")
    assert "choose three or four unrelated words" in problem


def test_the_reason_says_what_the_password_is_built_on() -> None:
    assert password_problem("Welkom01!2345") == (
        "this password is too easy to guess: it is built on a word often used in passwords and a sequence like "
        "'abc' or '1234'; choose three or four unrelated words, or a longer password")
    assert "a commonly used password" in (password_problem("password1234") or "")
    assert "a row of keys" in (password_problem("zxcvbnm,./12") or "")
    assert "your own name" in (password_problem("marieke-bakker1", ["marieke", "bakker"]) or "")


@pytest.mark.parametrize("password", [
    "correct horse battery staple", "een lang genoeg wachtwoord", "tafel lamp fiets regen", "Tr7#kLp2qZ!m",
    "fiets-regen-lamp-koffie " * 5,  # longer than zxcvbn reads
])
def test_passphrases_and_random_passwords_are_accepted(password: str) -> None:
    assert password_problem(password) is None


def test_short_passwords_are_refused_first() -> None:
    assert password_problem("Tr7#kLp2qZ!") == "a password has at least 12 characters"
