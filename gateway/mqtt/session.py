"""The dispatcher's MQTT session.

A persistent session (fixed client id, clean_session false) so that alarms published while
code4 restarts wait at the broker and arrive when it is back. Reconnects with jittered
backoff, to the next node when the broker is a cluster; while disconnected, publishing raises
TemporaryFailure and the outbox retries.
Incoming messages are handed to `on_message` as they arrive; it only parses and queues, so the
receive loop awaits nothing but the next message.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import structlog

from devices.endpoint import MqttEndpoint
from devices.protocol import Topics
from dispatcher.store.lease import LeaseLost
from escalation.channels import TemporaryFailure

log = structlog.get_logger("code4.mqtt")
CONNECT_TIMEOUT_S = 30.0


class MqttSession:
    def __init__(
        self,
        endpoint: MqttEndpoint,
        *,
        client_id: str,
        topics: Topics,
        on_message: Callable[[str, bytes, bool], None],
        ca_file: Path | None = None,
        keepalive: int = 15,
        extra_filters: Callable[[], list[tuple[str, int]]] = lambda: [],
        may_act: Callable[[], bool] = lambda: True,
    ) -> None:
        self._endpoint = endpoint
        self._client_id = client_id
        self._topics = topics
        self._on_message = on_message
        self._ca_file = ca_file
        self._keepalive = keepalive
        self._extra_filters = extra_filters
        # False once this instance no longer holds the dispatcher lease: it must neither take the
        # dispatcher's session back from the instance that now holds it, nor publish.
        self._may_act = may_act
        self._client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self.connections = 0

    async def run(self) -> None:
        """Connect, take messages in, reconnect. With a cluster's nodes (several URLs) a lost or
        refused connection moves on to the next node at once; a whole round of nodes that refuse
        is retried with growing pauses (jittered, at most 10 s)."""
        nodes = self._endpoint.nodes
        delay = 0.5
        failed_in_a_row = 0
        for attempt in itertools.count():
            if not self._may_act():
                raise LeaseLost("not connecting to the broker: the dispatcher lease is not held")
            node = nodes[attempt % len(nodes)]
            try:
                async with aiomqtt.Client(
                    node.host,
                    node.port,
                    username=node.username,
                    password=node.password,
                    identifier=self._client_id,
                    clean_session=False,
                    keepalive=self._keepalive,
                    # A clustered broker may take seconds to answer CONNECT after a node died (NATS
                    # re-elects where the session lives): giving up early would start that over.
                    timeout=CONNECT_TIMEOUT_S,
                    tls_context=self._tls_context(node),
                    max_inflight_messages=200,
                    # Small messages must not wait for Nagle's algorithm (up to 40 ms per hop).
                    socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                ) as client:
                    # aiomqtt warns of every publish beyond ten awaiting their PUBACK: under load
                    # that is a log line per page. Hundreds in flight are normal here.
                    client.pending_calls_threshold = 1_000_000
                    await client.subscribe(self._topics.uplink_filters() + self._extra_filters())
                    self._client = client
                    self.connections += 1
                    self.connected.set()
                    delay, failed_in_a_row = 0.5, 0
                    log.info("connected to broker", broker=node.url(), client_id=self._client_id,
                             reconnect=self.connections > 1)
                    async for message in client.messages:
                        try:
                            self._on_message(str(message.topic), _as_bytes(message.payload), bool(message.retain))
                        except Exception:  # no message may end the session
                            log.exception("incoming message not handled", topic=str(message.topic)[:200])
            except aiomqtt.MqttError as exc:
                failed_in_a_row += 1
                log.warning("broker connection lost; reconnecting", broker=node.url(), error=str(exc),
                            next_broker=nodes[(attempt + 1) % len(nodes)].url(),
                            retry_in_s=round(delay, 1) if failed_in_a_row >= len(nodes) else 0.1)
            finally:
                self._client = None
                self.connected.clear()
            if failed_in_a_row >= len(nodes):  # every node refused: wait before the next round
                await asyncio.sleep(delay * random.uniform(0.7, 1.3))
                delay = min(delay * 2, 10.0)
            else:  # another node may have the session: try it now
                await asyncio.sleep(0.1)

    async def resubscribe(self) -> None:
        """After a reload: subscribe to what the adapters now need (old ones just stay quiet)."""
        client = self._client
        if client is not None and (filters := self._extra_filters()):
            await client.subscribe(filters)

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        client = self._client
        if client is None:
            raise TemporaryFailure("not connected to the broker")
        if not self._may_act():
            raise TemporaryFailure("not publishing: this instance no longer dispatches")
        try:
            await client.publish(topic, payload, qos=qos, timeout=5)
        except aiomqtt.MqttError as exc:
            raise TemporaryFailure(f"broker did not take the message: {exc}") from exc

    def _tls_context(self, node: MqttEndpoint) -> ssl.SSLContext | None:
        if not node.tls:
            return None
        return ssl.create_default_context(cafile=str(self._ca_file) if self._ca_file else None)


def _as_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode("utf-8")
