"""The Redis client every server uses: a blocking pool on one Redis, or on the master that Redis
Sentinel names, followed through failovers without a restart.

The pool blocks at its size instead of failing: a fixed pool raises MaxConnectionsError under a
thousand concurrent streams.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

import redis.asyncio as redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from config import Settings

POOL: dict[str, Any] = {"max_connections": 256, "timeout": 5}
CONNECTION: dict[str, Any] = {"socket_timeout": 3, "socket_connect_timeout": 2, "health_check_interval": 30}


class BlockingSentinelPool(SentinelConnectionPool, redis.BlockingConnectionPool):
    """Sentinel's pool (connections go to the current master) that waits for a free connection."""


def connect(settings: Settings) -> redis.Redis:
    if not settings.sentinel_addresses:
        return redis.Redis(
            connection_pool=redis.BlockingConnectionPool.from_url(settings.redis_url, **POOL, **CONNECTION)
        )
    url = urlparse(settings.redis_url)
    sentinel_password = settings.redis_sentinel_password.get_secret_value() or None
    sentinels = Sentinel(
        settings.sentinel_addresses,
        sentinel_kwargs={  # type: ignore[no-untyped-call]
            "socket_timeout": 1,
            "socket_connect_timeout": 1,
            "password": sentinel_password,
        },
    )
    master: redis.Redis = sentinels.master_for(
        settings.redis_sentinel_master,
        connection_pool_class=BlockingSentinelPool,
        password=unquote(url.password) if url.password else None,
        db=int(url.path.strip("/") or 0),
        **POOL,
        **CONNECTION,
    )
    return master
