"""An ASGI app served by uvicorn from inside a running event loop, on a port of its own: how the
local Twilio server and the local push service run beside code4 in tests and demos."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from typing import Any

import uvicorn


class _Server(uvicorn.Server):
    """Leaves the process's signals to whoever runs the simulator (a test, `code4 run`)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class LocalServer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Serve until `stop`; the port it took (a free one for `port=0`)."""
        self._server = _Server(uvicorn.Config(self.app, host=host, port=port, log_level="warning",
                                              lifespan="off", access_log=False))
        self._serving = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._serving.done():
                self._serving.result()  # it could not start: say why
            await asyncio.sleep(0.01)
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
