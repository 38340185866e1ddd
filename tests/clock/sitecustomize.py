"""Moves the wall clock of every Python process started with this folder on PYTHONPATH.

`.ci/run` puts it there with CLOCK_MOVED_TO set (say "2026-11-29T02:30:00Z", a Sunday night in
Amsterdam) to run the tests that use the system clock, and the `code4` processes they start,
at a moment of its choosing. The clock then runs on from that moment; monotonic time is left
alone. No CODE4_ prefix: tests that give `code4 run` a clean environment keep this one.
"""

import os

if moment := os.environ.get("CLOCK_MOVED_TO"):
    import time_machine

    time_machine.travel(moment, tick=True).start()
