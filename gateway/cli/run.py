"""`code4 run`: the service (broker, dispatcher, HTTP API) until stopped."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.settings import Settings
    from simulators.twilio_server import TwilioSimulator


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("run", help="run the service (broker, dispatcher, HTTP API)")
    run.add_argument("--config", type=Path, help="agreement file (default: CODE4_CONFIG or the example organisation)")
    run.add_argument("--http", help="HTTP address host:port (default: CODE4_HTTP or 127.0.0.1:8080)")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from dispatcher.store.lease import AnotherInstance
    from escalation.loader import AgreementFileError
    from gateway.app import CannotListen
    from gateway.logging import configure
    from gateway.settings import Settings, SettingsError

    overrides: dict[str, object] = {}
    if args.config:
        overrides["config"] = args.config
    if args.http:
        overrides["http"] = args.http
    try:
        settings = Settings.load(**overrides)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure(fmt=settings.log_format, level=settings.log_level)
    try:
        asyncio.run(_serve(settings))
    except AgreementFileError as exc:
        print("code4 cannot start: the agreement file has errors\n" + str(exc), file=sys.stderr)
        return 2
    except (AnotherInstance, CannotListen) as exc:
        print(f"code4 cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve(settings: Settings) -> None:
    from gateway.app import Code4Service

    phones = None
    if settings.config is None and not settings.twilio_configured:
        # The example site on its embedded defaults: phones are simulated, never reached.
        phones, settings = await _simulated_phones(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            service = Code4Service(settings, run_info={"twilio_url": phones.api_base} if phones else None)
            await service.start()
            loop.add_signal_handler(signal.SIGHUP, service.reload)
            try:
                ended = asyncio.ensure_future(service.wait())
                await asyncio.wait([ended, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
            finally:
                await service.stop()
            if not service.stepped_down:
                break
            # It lost the dispatcher lease (paused, or cut off from the database): start
            # afresh, as a standby, from what the database holds.
    finally:
        if phones is not None:
            await phones.stop()


async def _simulated_phones(settings: Settings) -> tuple[TwilioSimulator, Settings]:
    """The local Twilio-compatible server beside a demo run, so that its SMS and voice steps
    can be watched (`code4 simulate phone`, or its page). Only for the example organisation
    without a Twilio account: a run with an agreement file of its own never fakes a channel."""
    import structlog
    from pydantic import SecretStr

    from gateway.mqtt.broker import free_port, port_is_free
    from simulators.twilio_modes import LOCAL_FROM, LOCAL_PORT, LOCAL_SID
    from simulators.twilio_server import TwilioSimulator

    token = secrets.token_urlsafe(24)
    phones = TwilioSimulator(account_sid=LOCAL_SID, auth_token=token,
                             sms_webhook=f"{settings.effective_public_url}/twilio/sms/inbound")
    await phones.start(port=LOCAL_PORT if port_is_free(LOCAL_PORT) else free_port())
    structlog.get_logger("code4.service").warning(
        "SIMULATION: no Twilio account is set, so SMS and voice calls of the example site go to the local "
        "Twilio-compatible server; no real phone is reached", phones=phones.api_base,
        watch="code4 simulate phone <number>")
    simulated = settings.model_copy(update={
        "twilio_account_sid": LOCAL_SID, "twilio_auth_token": SecretStr(token), "twilio_from": LOCAL_FROM,
        "twilio_api_base": phones.api_base})
    return phones, simulated
