"""What the engine measures, in the Prometheus text format (prometheus-client).

Histograms are observed where things happen: how long from taking a press in to its `received`
and to its first page, how many decisions each commit stored and how long it took, how late
deadlines were decided. Everything else — queue depths and lag, open alarms by state, device
faults, the outbox backlog, protocol errors — is read from the running parts when scraped.
Each service has a registry of its own, so tests can run several in one process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from escalation.notices import Feedback, FeedbackState, Notice, Notify, Purpose

LATENCY = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class EngineMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.press_to_received = Histogram(
            "code4_press_to_received_seconds", "From taking an alarm in to handing its received to the broker",
            buckets=LATENCY, registry=self.registry)
        self.press_to_first_page = Histogram(
            "code4_press_to_first_page_seconds", "From taking an alarm in to handing its first page to a channel",
            buckets=LATENCY, registry=self.registry)
        self.commit_seconds = Histogram(
            "code4_commit_seconds", "How long storing one batch of decisions took", buckets=LATENCY,
            registry=self.registry)
        self.batch_size = Histogram(
            "code4_commit_batch_size", "Decisions stored per commit", buckets=BATCH_SIZES, registry=self.registry)
        self.deadline_lateness = Histogram(
            "code4_deadline_lateness_seconds", "How long after it was due a deadline was decided",
            buckets=LATENCY, registry=self.registry)
        # alarm -> when its press was taken in (monotonic), and which firsts are still to come
        self._pressed: dict[str, tuple[float, set[str]]] = {}

    def pressed(self, uid: str, taken_in: float) -> None:
        self._pressed[uid] = (taken_in, {"received", "page"})
        if len(self._pressed) > 100_000:  # alarms whose messages never went: forget the oldest
            for old in list(self._pressed)[:10_000]:
                del self._pressed[old]

    def delivered(self, uid: str, effect: Feedback | Notify | Notice) -> None:
        entry = self._pressed.get(uid)
        if entry is None:
            return
        taken_in, awaited = entry
        if isinstance(effect, Feedback) and effect.state is FeedbackState.RECEIVED and "received" in awaited:
            self.press_to_received.observe(time.monotonic() - taken_in)
            awaited.discard("received")
        elif isinstance(effect, Notify) and effect.purpose is Purpose.PAGE and "page" in awaited:
            self.press_to_first_page.observe(time.monotonic() - taken_in)
            awaited.discard("page")
        if not awaited:
            del self._pressed[uid]

    def read_from(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        """Gauges and counters read from the running service at each scrape."""
        self.registry.register(_Snapshot(snapshot))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Snapshot(Collector):
    def __init__(self, snapshot: Callable[[], dict[str, Any]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        now = self._snapshot()
        queue = GaugeMetricFamily("code4_queue_depth", "Items waiting, by queue", labels=["queue"])
        for name, depth in now["queues"].items():
            queue.add_metric([name], depth)
        yield queue
        yield GaugeMetricFamily("code4_queue_lag_seconds", "How long the oldest waiting alarm or answer has waited",
                                value=now["queue_lag_s"])
        alarms = GaugeMetricFamily("code4_open_alarms", "Open alarms by state", labels=["state"])
        for state, count in now["open_alarms"].items():
            alarms.add_metric([state], count)
        yield alarms
        faults = GaugeMetricFamily("code4_device_faults", "Devices at fault, by fault", labels=["fault"])
        for fault, count in now["device_faults"].items():
            faults.add_metric([fault], count)
        yield faults
        yield GaugeMetricFamily("code4_outbox_backlog", "Messages decided and not yet delivered or given up",
                                value=now["outbox_backlog"])
        for name, help_text in (("protocol_errors", "Device messages that could not be used as they were"),
                                ("intake_errors", "Messages the intake could not take in (a fault in code4)"),
                                ("facts_coalesced", "Heartbeats and positions replaced by a newer one while waiting"),
                                ("facts_dropped", "Device facts dropped because their queue was full"),
                                ("database_errors", "Times the database was unavailable for a decision"),
                                ("stale_writes", "Batches decided again because an alarm had changed")):
            yield CounterMetricFamily(f"code4_{name}", help_text, value=now["counters"].get(name, 0))
