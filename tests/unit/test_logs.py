"""An error on a log line: the loops that log a database error and go on must not fail on the
error's text itself."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from dispatcher.logs import error_line


def test_an_error_without_a_message_is_told_by_its_kind() -> None:
    assert error_line(TimeoutError()) == "TimeoutError"


def test_a_long_driver_error_is_told_by_its_first_line_bounded() -> None:
    error = OperationalError("SELECT 1", {}, Exception("server closed the connection\n" + "detail " * 100))
    assert error_line(error).startswith("(builtins.Exception) server closed the connection")
    assert "\n" not in error_line(error) and len(error_line(error, limit=20)) == 20
