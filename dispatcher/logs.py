"""How an error is told on a log line: its first line, bounded (a driver's error can run to
pages), never empty (some exceptions carry no message)."""

from __future__ import annotations


def error_line(exc: BaseException, limit: int = 200) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:limit]
