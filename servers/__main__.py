"""`python -m servers NAME`: run one Chorus server under uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from config import load_settings
from orchestration.http import KEEP_ALIVE_SECONDS

NAMES = ("gateway", "supervisor", "researcher", "analyst", "writer")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m servers")
    parser.add_argument("name", choices=NAMES)
    name = parser.parse_args().name
    settings = load_settings()
    if name == "gateway":
        from servers.gateway import create_app

        app = create_app(settings)
    elif name == "supervisor":
        from servers.supervisor import create_app

        app = create_app(settings)
    else:
        from servers.agent import create_app

        app = create_app(name, settings)
    uvicorn.run(
        app, host=settings.bind_host, port=settings.agent_port(name),
        loop="uvloop", http="httptools", log_level="warning", access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,  # longer than our clients keep an idle connection
        # SIGTERM: stop accepting, let in-flight requests and streams finish, then cancel what is left
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    main()
