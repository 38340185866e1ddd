"""`code4 run`: the whole service in one process — broker (when none is given), MQTT session,
dispatcher, device supervision, HTTP API — and the glue between them.

Also what tests start in-process, with a fake clock, to drive real MQTT and a real database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import secrets
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog
import uvicorn
from prometheus_client import start_http_server
from sqlalchemy.exc import InterfaceError, OperationalError

from devices.adapters import Adapters
from devices.endpoint import MqttEndpoint
from devices.kinds import AlarmKind
from devices.protocol import FeedbackPayload, Topics, encode
from dispatcher.approaches import ApproachBook
from dispatcher.centrewatch import CentreWatch
from dispatcher.clock import Clock, SystemClock
from dispatcher.core import AlarmState, PageStatus
from dispatcher.devicewatch import DeviceWatch
from dispatcher.incidents.desk import IncidentDesk
from dispatcher.intake import Intake
from dispatcher.leadership import Leadership
from dispatcher.logs import error_line
from dispatcher.metrics import EngineMetrics
from dispatcher.outbox import RetryPolicy, Undeliverable
from dispatcher.presence import PresenceBook, pager_online
from dispatcher.service import Dispatcher, RaiseAlarm
from dispatcher.store.approaches import ApproachStore
from dispatcher.store.incidents import IncidentRecords
from dispatcher.store.lease import Lease, LeaseLost, SingleInstance, instance_name
from dispatcher.store.presence import PresenceStore
from dispatcher.store.push import PushSubscriptionStore
from dispatcher.store.repository import Store
from escalation.alarm_centre.channel import AlarmCentreChannel
from escalation.alarm_centre.pool import Transmitters
from escalation.channels import Channel, TemporaryFailure
from escalation.check import load_organisation
from escalation.directory import Directory
from escalation.feedback import DeviceFeedback
from escalation.links import ResponderLinks
from escalation.loader import AgreementFileError, LoadedOrganisation
from escalation.notices import Notify
from escalation.pager import PagerChannel
from escalation.phone_channels import AppLinkChannel, SmsChannel, VoiceChannel
from escalation.pins import PinDigests
from escalation.plan import Position
from escalation.push.channel import PushChannel, PushSettings, Unanswered
from escalation.push.vapid import VapidKeys
from escalation.twilio_api import TwilioApi, TwilioConfig, WebhookUrls
from gateway.board.live import LiveFeed
from gateway.deps import TwilioWebhooks
from gateway.http import IMPORT_PATH, create_app
from gateway.identity.accounts import Accounts
from gateway.identity.devices import DeviceSessions
from gateway.identity.throttle import LoginThrottle
from gateway.mqtt.broker import Broker, embedded_broker
from gateway.mqtt.session import MqttSession
from gateway.settings import Settings
from gateway.web.edge import MAX_HEAD_BYTES, BodyLimits, head_timeout_protocol

log = structlog.get_logger("code4.service")


class CannotListen(RuntimeError):
    """The HTTP address is taken (or not this machine's)."""


class Code4Service:
    # The running parts, made by `start` in this order (the HTTP handlers reach them through
    # gateway/deps.py `Services`).
    store: Store
    topics: Topics
    adapters: Adapters
    session: MqttSession
    public_url: str
    live: LiveFeed
    links: ResponderLinks
    twilio: TwilioApi | None
    approach_store: ApproachStore
    approaches: ApproachBook
    presence_store: PresenceStore
    presence: PresenceBook
    dispatcher: Dispatcher
    devices: DeviceWatch
    centre_transmitters: Transmitters
    centres: CentreWatch
    intake: Intake
    desk: IncidentDesk
    accounts: Accounts
    throttle: LoginThrottle
    device_sessions: DeviceSessions
    push_book: PushSubscriptionStore | None
    vapid_public_key: str | None
    push_origins: tuple[str, ...]

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        watch_interval: float = 2.0,
        run_info: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._run_info = run_info or {}
        self.metrics = EngineMetrics()
        self._metrics_server: Any = None
        self._health: tuple[float, bool] = (0.0, False)  # when the database was last asked, and its answer
        self.clock = clock or SystemClock()
        self._retry = retry or RetryPolicy(page_give_up_after=settings.page_give_up_after_s)
        self._watch_interval = watch_interval
        self._broker: Broker | None = None
        self._runner: asyncio.Task[None] | None = None
        self._server: uvicorn.Server | None = None
        self.mqtt_url = settings.mqtt_url or ""
        self.agreement_file = settings.agreement_file
        self._file_stamp: tuple[float, int] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.leadership: Leadership | None = None  # PostgreSQL: who dispatches
        self._single: SingleInstance | None = None  # SQLite: one instance per database file
        self.role = "starting"  # then "leader" or "standby"; "stepped down" after losing the lease
        self._standby = asyncio.Event()
        self._push_client: httpx.AsyncClient | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, *, ready_timeout: float = 20.0) -> None:
        try:
            await self._start(ready_timeout)
        except BaseException as exc:
            await self._abandon()  # nothing started stays behind (the embedded broker, the file lock)
            if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
                raise exc.exceptions[0] from None  # the cause as it is, not wrapped by a task group
            raise

    async def _abandon(self) -> None:
        """After a failed start: stop what was started."""
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
            with contextlib.suppress(BaseException):
                await self._runner
        await self._release()

    async def _release(self) -> None:
        """The last of a stop (or of a failed start): what holds a thread, a file lock, a port or
        a process let go, whichever of them was started."""
        if self.leadership is not None:
            self.leadership.close()
        if hasattr(self, "store"):
            self.store.close()
        if self._single is not None:
            self._single.release()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()  # the port is free again (a restart after stepping down binds it)
            self._metrics_server = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None

    async def _start(self, ready_timeout: float) -> None:
        loaded = self._read_agreements()
        self._open_store()
        if self.settings.mqtt_url is None:
            self._broker = embedded_broker(self.settings.data_dir)
            await self._broker.start()
            self.mqtt_url = self._broker.url
        await self._migrate()  # before anything can read or write
        self._connect(loaded)
        self._alarm_centre_pool()
        channels = self._channels()
        await self._read_approaches()
        await self._read_presence()
        self._assemble(loaded, channels)
        self._serve_metrics()
        self._server = self._http_server()
        self._runner = asyncio.create_task(self._run(), name="code4")
        await self._until_ready(ready_timeout)
        self._write_run_file()
        gc.collect()
        gc.freeze()  # what start-up built lives as long as the service: see `_tend_memory`
        log.info("code4 running", organisation=self.organisation, http=self.http_url, broker=self.broker_display,
                 agreements=str(self.agreement_file), role=self.role)

    def _read_agreements(self) -> LoadedOrganisation:
        """The agreement file; a broken one stops start-up here."""
        # The database, the link key and the broker's queue live here: for this account only.
        self.settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.settings.data_dir.chmod(0o700)
        loaded, issues = load_organisation(self.agreement_file)
        for issue in issues:
            (log.error if issue.severity == "error" else log.warning)("agreement file", problem=str(issue))
        self._file_stamp = _stamp(self.agreement_file)
        return loaded

    def _open_store(self) -> None:
        """The database, and who may write to it: one instance per SQLite file; on PostgreSQL
        the holder of the dispatcher lease."""
        self.store = Store(self.settings.effective_database_url)
        if self.store.sqlite_path is not None:
            self._single = SingleInstance(self.store.sqlite_path)
            self._single.take()  # a second instance on the same file stops here, saying why
        elif not self.store.is_sqlite:
            self.leadership = Leadership(Lease(self.store.engine, holder=instance_name(),
                                               ttl_s=self.settings.lease_ttl_s))
            self.store.fence = _not_leading  # until this instance holds the lease

    def _connect(self, loaded: LoadedOrganisation) -> None:
        """The MQTT session, the live feed for pages, and the signed responder links."""
        settings = self.settings
        self.topics = Topics(settings.topic_prefix)
        self.adapters = Adapters(loaded.organisation.adapters)
        self.session = MqttSession(
            MqttEndpoint.parse(self.mqtt_url), client_id=settings.mqtt_client_id, topics=self.topics,
            on_message=self.handle_message, ca_file=settings.mqtt_ca_file,
            extra_filters=lambda: self.adapters.filters(), may_act=self.may_act,
        )
        self.public_url = settings.effective_public_url
        self.live = LiveFeed()
        self.links = ResponderLinks(secret=self._secret_key(), public_url=self.public_url,
                                    ttl_s=settings.link_ttl_s, now=self.clock.now)

    def _channels(self) -> dict[str, Channel]:
        """The pager always; SMS, voice and the app link when Twilio is configured."""
        settings = self.settings
        channels: dict[str, Channel] = {"pager": PagerChannel(self.session, self.topics)}
        self.twilio = None
        if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
            self.twilio = TwilioApi(TwilioConfig(
                account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token.get_secret_value(),
                from_number=settings.twilio_from, public_url=self.public_url, api_base=settings.twilio_api_base,
            ))
            urls = WebhookUrls(self.public_url)
            phones = lambda recipient: self.dispatcher.directory.phone(recipient)  # noqa: E731 - as the file says now
            channels |= {"sms": SmsChannel(self.twilio, urls, self.links, phones),
                         "voice": VoiceChannel(self.twilio, urls, phones),
                         "app": AppLinkChannel(self.twilio, urls, self.links, phones)}
        else:
            log.warning("Twilio is not configured: sms, voice and app steps fall back to other channels "
                        "or count as unreachable")
        channels |= self._push_channel()
        channels["alarm_centre"] = AlarmCentreChannel(
            centres=lambda key: self.dispatcher.directory.alarm_centre(key),
            transmitters=self.centre_transmitters, report=lambda transmission: self.dispatcher.put(transmission),
            known_down=lambda centre: self.centres.is_down(centre))
        return channels

    def _push_channel(self) -> dict[str, Channel]:
        """Web Push to the responder app (/app): the VAPID key made once and kept in data_dir; who
        has a subscription kept in memory for planning. A push not answered in time is reported
        as undelivered on its route, so the person moves on to their next channel."""
        settings = self.settings
        self.push_book, self.vapid_public_key = None, None
        self.push_origins = tuple(o.rstrip("/") for o in settings.push_origins)
        if not settings.push_enabled:
            return {}
        keys = VapidKeys.load_or_create(settings.data_dir / "vapid.pem", settings.push_subject)
        self.push_book = PushSubscriptionStore(self.store, now=self.clock.now)
        self.push_book.refresh()
        self.vapid_public_key = keys.public_key
        clock = self.clock

        async def unanswered(notify: Notify, reason: str) -> Unanswered:
            state = await self.dispatcher.alarm(notify.message.alarm_uid)
            page = state.page(notify.page_id) if state is not None else None
            if state is None or not state.is_open or page is None or page.status is not PageStatus.PENDING \
                    or page.route != notify.route_index:
                return Unanswered.OVER
            if page.route + 1 == len(page.routes):
                return Unanswered.REPEAT  # their last channel: never a reason to count them unreachable
            self.dispatcher.put(Undeliverable(notify.message.alarm_uid, notify.page_id, notify.route_index,
                                              notify.purpose.value, reason))
            return Unanswered.MOVED_ON

        self._push_client = httpx.AsyncClient(timeout=10.0)
        return {"push": PushChannel(
            book=self.push_book, keys=keys, links=self.links, client=self._push_client,
            now_s=lambda: int(time.time()),  # a VAPID claim is read against the push service's clock
            sleep=lambda seconds: clock.sleep_until(clock.now() + timedelta(seconds=seconds)),
            unanswered=unanswered,
            settings=PushSettings(ttl_s=settings.push_ttl_s, answer_within_s=settings.push_answer_within_s))}

    def _push_people(self) -> frozenset[str]:
        return self.push_book.people() if self.push_book is not None else frozenset()

    async def _refresh_push_people(self) -> None:
        """Who has push, read again now and then: a phone may subscribe at another instance."""
        while self.push_book is not None:
            await asyncio.sleep(PUSH_REFRESH_S)
            try:
                await asyncio.to_thread(self.push_book.refresh)
            except Exception as exc:  # the database away: the last known set serves meanwhile
                log.warning("push subscriptions not read again", error=error_line(exc))

    def _alarm_centre_pool(self) -> None:
        """One transmitter per alarm centre, shared by the alarm channel and line supervision
        (one sequence of message numbers per line); AES keys from the environment. A DC-09
        timestamp is read against the receiver's own clock: always the wall clock."""
        self.centre_transmitters = Transmitters(os.environ.get, SystemClock().now)

    async def _read_approaches(self) -> None:
        self.approach_store = ApproachStore(self.store)
        self.approaches = ApproachBook(load=self.approach_store.not_over, housekeeping=self.approach_store.erase_old,
                                       now=self.clock.now)
        await self.approaches.first_read()

    async def _read_presence(self) -> None:
        self.presence_store = PresenceStore(self.store)
        self.presence = PresenceBook(load=self.presence_store.current, housekeeping=self.presence_store.delete_expired,
                                     now=self.clock.now, directory=lambda: self.dispatcher.directory,
                                     pager_online=pager_online(lambda: self.devices.facts()))
        await self.presence.first_read()

    def _assemble(self, loaded: LoadedOrganisation, channels: dict[str, Channel]) -> None:
        """The dispatcher, device supervision and the intake between them and the broker; the
        records desk and the accounts."""
        self.dispatcher = Dispatcher(
            store=self.store,
            directory=Directory(loaded.organisation, push_people=self._push_people),
            clock=self.clock,
            channels=channels,
            feedback=DeviceFeedback(self.session, self.topics),
            retry=self._retry,
            pins=PinDigests(self._secret_key()),
            listeners=[self.live.publish, self._alarm_changed],
            last_position=lambda device_id: self.devices.last_position(device_id),
            visit_note=lambda device_id: self.devices.visit_note(device_id),
            metrics=self.metrics,
            may_send=self.may_act,
            approach_for=self.approaches.note_for,
            presence_at=self.presence.present,
        )
        self.devices = DeviceWatch(
            store=self.store, directory=self.dispatcher.directory, clock=self.clock,
            raise_alarm=self._raise_alarm, pre_alert=self._pre_alert, send_notices=self.dispatcher.send,
            db=self.dispatcher.db,
        )
        self.centres = CentreWatch(directory=self.dispatcher.directory, clock=self.clock,
                                   transmitters=self.centre_transmitters, report=self.devices.path_checked,
                                   ready=self.devices.loaded.wait)
        self.intake = Intake(topics=self.topics, adapters=lambda: self.adapters, now=self.clock.now,
                             dispatch=self.dispatcher.put, observe=self.devices.observe)
        self.metrics.read_from(self._snapshot)
        self.desk = IncidentDesk(IncidentRecords(self.store), directory=lambda: self.dispatcher.directory,
                                 clock=self.clock)
        self.accounts = Accounts(self.store, now=self.clock.now)
        book = self.push_book
        self.device_sessions = DeviceSessions(self.store, now=self.clock.now,
                                              on_revoke=book.forget_device if book is not None else lambda _id: None)
        self.throttle = LoginThrottle(clock=self.clock.monotonic)

    def _serve_metrics(self) -> None:
        """Metrics on a port of their own, without sign-in, when the settings ask for it."""
        settings = self.settings
        if settings.metrics_http:
            host, _, port = settings.metrics_http.rpartition(":")
            self._metrics_server, _ = start_http_server(int(port), addr=host, registry=self.metrics.registry)
            log.info("metrics listening without sign-in", address=settings.metrics_http)

    def _http_server(self) -> _HttpServer:
        settings = self.settings
        twilio = None
        if self.twilio is not None:
            twilio = TwilioWebhooks(
                auth_token=self.twilio.config.auth_token, public_url=self.public_url,
                first_time=lambda key: asyncio.to_thread(self.store.first_receipt, key, self.clock.now()))
        limits = BodyLimits(default=settings.http_max_body, timeout_s=settings.http_body_timeout_s,
                            larger={("POST", IMPORT_PATH): settings.http_max_import_body})
        app = create_app(self, twilio=twilio, secure_cookies=self.public_url.startswith("https://"), limits=limits)
        return _HttpServer(uvicorn.Config(
            app, host=settings.http_host, port=settings.http_port,
            log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2,
            # Our h11 (whatever else is installed), with a deadline and a size for each request head.
            http=head_timeout_protocol(settings.http_head_timeout_s), h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            # uvicorn believes X-Forwarded-For from 127.0.0.1 by default (or $FORWARDED_ALLOW_IPS):
            # code4 only from the proxies it is told of.
            proxy_headers=bool(settings.trusted_proxies), forwarded_allow_ips=settings.trusted_proxies or [],
        ))

    async def _until_ready(self, ready_timeout: float) -> None:
        """Until this instance dispatches (or stands by), its broker session is up and the HTTP
        server listens; a run that fails meanwhile raises its error."""
        assert self._runner is not None
        runner = asyncio.ensure_future(self._runner)
        waiting = [asyncio.ensure_future(self.dispatcher.ready.wait()), asyncio.ensure_future(self._standby.wait()),
                   runner]
        done, _ = await asyncio.wait(waiting, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            self._runner.result()  # start-up failed: raise its error
        for waiter in waiting[:2]:
            waiter.cancel()
        if self.role == "leader":
            try:
                await asyncio.wait_for(self.session.connected.wait(), ready_timeout)
            except TimeoutError:
                log.error("broker not reachable yet; alarms wait at the broker until it is",
                          broker=self.broker_display)
        await self._wait_for_http(ready_timeout)

    async def _migrate(self) -> None:
        """Bring the schema up to date; a database that is away (restarting, failing over) is
        waited for: alarms wait at the broker meanwhile."""
        waited = 0
        while True:
            try:
                await asyncio.to_thread(self.store.migrate)
                return
            except (OperationalError, InterfaceError) as exc:
                if waited % 10 == 0:
                    log.error("database not reachable; waiting for it", database=self.store.description,
                              error=error_line(exc), waited_s=waited)
                await asyncio.sleep(1.0)
                waited += 1

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._lead(), name="leadership")
            tasks.create_task(self._watch_agreements(), name="agreement-watch")
            tasks.create_task(_tend_memory(), name="memory")
            tasks.create_task(self.approaches.run(), name="approach-agreements")
            tasks.create_task(self.presence.run(), name="presence")
            tasks.create_task(self._refresh_push_people(), name="push-people")
            assert self._server is not None
            try:
                await self._server.serve()
            except SystemExit:  # uvicorn's answer to a port it cannot bind: an error here, not an exit
                raise CannotListen(f"the HTTP API cannot listen on {self.settings.http} (in use?)") from None
            # The HTTP server returns only when stopped or broken: take everything down with it.
            raise asyncio.CancelledError

    async def _lead(self) -> None:
        """Dispatch: at once on SQLite; on PostgreSQL once this instance holds the dispatcher
        lease (until then a standby serving the API). Losing the lease ends dispatching and this
        run: `code4 run` then starts again as a standby (`stepped_down`)."""
        leadership = self.leadership
        if leadership is not None:
            if not await leadership.acquire():
                self.role = "standby"
                self._standby.set()
                log.info("standby: another instance holds the dispatcher lease; taking over when it ends")
                # The board here too: alarms and devices as the leader stores them.
                following = [asyncio.create_task(self.dispatcher.follow(), name="follow-alarms"),
                             asyncio.create_task(self.devices.follow(), name="follow-devices")]
                try:
                    await leadership.wait()
                finally:
                    for task in following:
                        task.cancel()
                    await asyncio.gather(*following, return_exceptions=True)
            self.store.fence = leadership.lease.fence
            log.info("this instance dispatches now", epoch=leadership.lease.epoch, holder=leadership.lease.holder)
        self.role = "leader"
        jobs: list[tuple[str, Coroutine[Any, Any, None]]] = [
            ("dispatcher", self.dispatcher.run()),
            ("mqtt", self.session.run()),
            ("devices", self.devices.run()),
            ("alarm-centres", self.centres.run()),
            ("records-housekeeping", self.desk.run_housekeeping()),
        ]
        if leadership is not None:
            jobs.append(("lease", leadership.keep()))
        try:
            async with asyncio.TaskGroup() as tasks:
                for name, job in jobs:
                    tasks.create_task(job, name=name)
        except* LeaseLost as lost:
            self.role = "stepped down"
            log.error("dispatcher lease lost: this instance stops dispatching and steps down",
                      reason=str(lost.exceptions[0]))
            if self._server is not None:
                self._server.should_exit = True

    @property
    def stepped_down(self) -> bool:
        return self.role == "stepped down"

    def may_act(self) -> bool:
        """May this instance send and take the dispatcher's broker session (cheap: every send)."""
        return self.leadership is None or self.leadership.lease.holds()

    async def stop(self) -> None:
        leading = self.role == "leader"
        if self._runner is not None and not self._runner.done() and leading:
            await self.dispatcher.drain()
        self.live.close()
        if self._push_client is not None:
            await self._push_client.aclose()
        if self._server is not None:
            self._server.should_exit = True
        if self._runner is not None:
            # Let the HTTP server close its socket itself (it then ends the other tasks);
            # cancelling it mid-shutdown would leave the port bound.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._runner), 10)
            if not self._runner.done():
                self._runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._runner
            self._runner = None
        if leading:
            try:
                await self.devices.flush()
            except LeaseLost:
                log.warning("last device facts not stored: another instance dispatches now")
        self.dispatcher.close()
        if self.leadership is not None and leading:
            await self.leadership.release()  # a standby takes over now, not when the lease runs out
        await self._release()
        with contextlib.suppress(FileNotFoundError):
            self.run_file.unlink()
        log.info("code4 stopped")

    async def wait(self) -> None:
        """Until the service ends (a signal to the HTTP server, or a crash)."""
        assert self._runner is not None
        with contextlib.suppress(asyncio.CancelledError):
            await self._runner

    async def __aenter__(self) -> Code4Service:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # ---- glue ---------------------------------------------------------------------------------

    def _alarm_changed(self, state: AlarmState) -> None:
        desk: IncidentDesk | None = getattr(self, "desk", None)  # made once the dispatcher is
        if desk is not None:
            desk.alarm_changed(state)  # a closed alarm gets its aftercare at once

    def handle_message(self, topic: str, payload: bytes, retained: bool = False) -> None:
        """The MQTT loop's one call per message: parse and queue, never wait, never raise."""
        self.intake.accept(topic, payload, retained)

    @property
    def protocol_errors(self) -> int:
        return self.intake.protocol_errors

    @property
    def intake_errors(self) -> int:
        return self.intake.intake_errors

    def _raise_alarm(self, device_id: str, alarm_id: str, position: Position | None, note: str | None) -> None:
        self.dispatcher.put(RaiseAlarm(device_id, alarm_id, AlarmKind.CHECKIN_MISSED, position, note))

    async def _pre_alert(self, device_id: str, reference: str, text: str) -> None:
        payload = encode(FeedbackPayload(alarm_id=reference, state="checkin_due", text=text))
        try:
            await self.session.publish(self.topics.device(device_id, "feedback"), payload, qos=1)
        except TemporaryFailure as exc:
            log.warning("check-in pre-alert not delivered; the alarm follows after the grace", device_id=device_id,
                        error=str(exc))

    def reload(self) -> bool:
        """Load the agreement file again; a broken file keeps the previous one running."""
        try:
            loaded, issues = load_organisation(self.agreement_file)
        except AgreementFileError as exc:
            for issue in exc.issues:
                log.error("agreement file not reloaded: keeping the previous version", problem=str(issue))
            return False
        for issue in issues:
            (log.error if issue.severity == "error" else log.warning)("agreement file", problem=str(issue))
        directory = Directory(loaded.organisation, push_people=self._push_people)
        self.dispatcher.reload(directory)
        self.devices.reload(directory)
        self.centres.reload(directory)
        self.adapters = Adapters(loaded.organisation.adapters)
        task = asyncio.get_running_loop().create_task(self.session.resubscribe())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return True

    async def _watch_agreements(self) -> None:
        while True:
            await asyncio.sleep(self._watch_interval)
            stamp = _stamp(self.agreement_file)
            if stamp is not None and stamp != self._file_stamp:
                self._file_stamp = stamp
                self.reload()

    # ---- what the API and tools see ----------------------------------------------------------------

    @property
    def broker_display(self) -> str:
        """The broker URL as it may be logged or shown: never its password."""
        return MqttEndpoint.parse(self.mqtt_url).url()

    @property
    def mqtt_connected(self) -> bool:
        return self.session.connected.is_set()

    @property
    def organisation(self) -> str:
        return self.dispatcher.directory.org.organisation

    def counters(self) -> dict[str, int]:
        return {"protocol_errors": self.protocol_errors, "intake_errors": self.intake_errors,
                "facts_coalesced": self.devices.queue.coalesced, "facts_dropped": self.devices.queue.dropped,
                **dict(self.dispatcher.metrics)}

    async def health_checks(self) -> dict[str, Any]:
        """Is the service well: the database answers (asked at most once a second, whatever
        polls this), the broker is connected, no alarm waits in the queue."""
        asked, answered = self._health
        if time.monotonic() - asked >= 1.0:
            try:
                await asyncio.wait_for(asyncio.to_thread(self.store.ping), 2.0)
                answered = True
            except Exception as exc:
                log.warning("health check: the database does not answer", error=error_line(exc))
                answered = False
            self._health = (time.monotonic(), answered)
        return {"database": answered, "broker": self.mqtt_connected,
                "queue_lag_s": round(self.dispatcher.inbox.lag(), 3), "role": self.role}

    def _snapshot(self) -> dict[str, Any]:
        """What /metrics reads from the running parts at each scrape."""
        lanes = self.dispatcher.inbox.depths()
        states = Counter(state.status.value for state in self.dispatcher.open_alarms())
        faults = Counter(fault for facts in self.devices.facts().values() for fault in facts.faults)
        return {"queues": {"alarms": lanes[0], "answers": lanes[1], "device_facts": len(self.devices.queue)},
                "queue_lag_s": self.dispatcher.inbox.lag(), "open_alarms": dict(states),
                "device_faults": dict(faults), "outbox_backlog": self.dispatcher.outbox_backlog,
                "counters": self.counters()}

    @property
    def http_url(self) -> str:
        return f"http://{self.settings.http_host}:{self.bound_port}"

    @property
    def bound_port(self) -> int:
        if self._server is not None and self._server.servers:
            return int(self._server.servers[0].sockets[0].getsockname()[1])
        return self.settings.http_port

    @property
    def run_file(self) -> Path:
        return self.settings.data_dir / "run.json"

    async def _wait_for_http(self, limit: float) -> None:
        assert self._server is not None
        for _ in range(int(limit / 0.05)):
            if self._server.started:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the HTTP API did not start on {self.settings.http}")

    def _secret_key(self) -> str:
        """Signs responder links. Kept on disk so links survive a restart; never logged."""
        if self.settings.secret_key is not None:
            return self.settings.secret_key.get_secret_value()
        path = self.settings.data_dir / "secret.key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()

    def _write_run_file(self) -> None:
        """Tells `code4 simulate` where this service's broker and API are."""
        data = {"mqtt_url": MqttEndpoint.parse(self.mqtt_url).url(), "http_url": self.http_url,
                "topic_prefix": self.settings.topic_prefix, "pid": os.getpid(), **self._run_info}
        partial = self.run_file.with_suffix(".tmp")
        partial.write_text(json.dumps(data, indent=2), encoding="utf-8")
        partial.replace(self.run_file)  # atomic: a reader never sees half a file


FREEZE_EVERY_S = 2.0
PUSH_REFRESH_S = 10.0


async def _tend_memory() -> None:
    """Keep the garbage collector's full scans short. Its pauses grow with every object alive:
    with a few thousand open alarms a full scan held the event loop for 300 ms, and every alarm
    behind it. Objects that survived two seconds (alarm states, device facts) are frozen: the
    collector no longer walks them, and they are still freed the usual way when dropped. Young
    objects are collected first, so short-lived cycles (exceptions, finished tasks) are not
    frozen with them."""
    while True:
        await asyncio.sleep(FREEZE_EVERY_S)
        gc.collect(1)
        gc.freeze()


class _HttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: code4 stops its parts in order on a signal
    (uvicorn would re-raise the signal after its own shutdown and end the process early)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _not_leading(_connection: object) -> None:
    raise LeaseLost("this instance is a standby: it does not write what the dispatcher writes")


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime, stat.st_size)
