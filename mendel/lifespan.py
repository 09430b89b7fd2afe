"""Start-up and shut-down of the ASGI server: the renderers are warmed up and the
in-process job worker lives here."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

log = logging.getLogger(__name__)


class InProcessWorker:
    """A procrastinate worker running on the server's event loop.

    It has its own ``App`` and psycopg pool (the web side keeps deferring through Django's
    connection, so a defer inside ``transaction.atomic()`` rolls back with it), and leaves
    signal handling to the server.
    """

    def __init__(self) -> None:
        self._app = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        from procrastinate.contrib.django import app as proxy_app

        app = proxy_app.with_connector(proxy_app.connector.get_worker_connector())
        await app.open_async()
        self._app = app
        self._task = asyncio.create_task(
            app.run_worker_async(
                install_signal_handlers=False,
                name="in-process",
                concurrency=settings.INPROCESS_WORKER_CONCURRENCY,
                shutdown_graceful_timeout=10,
            ),
            name="procrastinate-worker",
        )
        log.info("in-process job worker started")

    async def stop(self) -> None:
        from breeding.tasks import STOPPING

        STOPPING.set()  # long jobs in threads stop at their next step
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("job worker stopped with an error")
        if self._app is not None:
            await self._app.close_async()
        log.info("in-process job worker stopped")


class Lifespan:
    """Wraps the protocol router and answers ``lifespan`` scopes itself."""

    def __init__(self, app) -> None:
        self.app = app
        self.worker = InProcessWorker() if settings.INPROCESS_WORKER else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if settings.RENDER_WARMUP:
                        # Before the server says it is ready: no request waits for it.
                        from breeding import images

                        await asyncio.to_thread(images.warm_up)
                    if self.worker:
                        await self.worker.start()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.worker:
                    await self.worker.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
