"""A fixed-window counter in Django's cache, for the public form endpoint.

The login lock-out (identity.services.login_check_allowed) counts failures in the
database, which suits a handful of failed logins; a public form can be hit many times
a second, so its counters live in the cache (Redis when configured, else the
process's local memory) and cost no database write. `cache.add` starts a window
atomically; `cache.incr` is atomic on Redis and locked on the local-memory cache."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

PREFIX = "lavka:leads:rate"


def _key(name: str, bucket: int) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    return f"{PREFIX}:{digest}:{bucket}"


def throttle_hit(name: str, *, limit: int, window: int) -> bool:
    """Count one hit of `name` in the current window of `window` seconds; False when
    this hit is over `limit` (the caller refuses it)."""
    bucket = int(time.time() // window)
    key = _key(name, bucket)
    if cache.add(key, 1, timeout=window + 1):
        return limit >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # the entry expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return count <= limit
