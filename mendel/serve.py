"""``make run``: migrate, then serve Mendel (HTTP and WebSocket) with a job worker inside.

Unless ``DATABASE_URL`` is set, the embedded PostgreSQL starts first and stops when the
server stops (Ctrl-C).
"""

from __future__ import annotations

import os
import sys
import time


def main() -> int:
    started = time.monotonic()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mendel.settings")
    os.environ.setdefault("INPROCESS_WORKER", "1")

    from django.core.exceptions import ImproperlyConfigured

    from mendel.env import env_int

    try:
        host = os.environ.get("HOST", "127.0.0.1").strip() or "127.0.0.1"
        port = env_int("PORT", 8000, low=1, high=65535)
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"Mendel cannot start: {exc}", file=sys.stderr)
        return 2

    import uvicorn
    from django.core.management import call_command

    from mendel import embedded
    from mendel.httpprotocol import SERVER_CONFIG
    from mendel.processes import more_files
    from mendel.websocket import MAX_FRAME_BYTES

    try:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("setup_mendel")
        display_host = f"[{host}]" if ":" in host else host
        print(
            f"\n  Mendel is running at http://{display_host}:{port}/"
            f"  (ready in {time.monotonic() - started:.1f} s; Ctrl-C stops it)\n",
            flush=True,
        )
        config = uvicorn.Config(
            "mendel.asgi:application",
            host=host,
            port=port,
            lifespan="on",
            ws="websockets-sansio",  # sends never wait for a socket (mendel.processes.web_args)
            ws_max_size=MAX_FRAME_BYTES,
            log_level="info",
            access_log=False,
            **SERVER_CONFIG,  # a deadline for headers; addresses as Mendel reads them
        )
        more_files()  # a socket is an open file: as many visitors as the system allows
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass
    finally:
        close_database_pools()
        embedded.stop()
    print("Mendel stopped.", flush=True)
    return 0


def close_database_pools() -> None:
    """Close Django's connection pools before the database goes away, so no pool thread
    keeps trying to reconnect to it."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is closed and the database stopped. Skip the interpreter's finalisation: a
    # job or render thread still inside torch when it runs makes torch's C++ thread pool
    # abort the process ("terminate called without an active exception"), so an ordinary
    # Ctrl-C would end with SIGABRT. An interrupted job is run again by the next worker.
    os._exit(code)
