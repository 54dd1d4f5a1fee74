"""Who is acting and from where (web, api, cli, worker), for the audit log's `meta`.

Set per request by middleware and per command by the CLI; read by `audit_record`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_meta: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "lavka_audit_meta", default=None
)


def current_meta() -> dict[str, Any]:
    return dict(_meta.get() or {})


@contextlib.contextmanager
def audit_context(**meta: Any) -> Iterator[None]:
    token = _meta.set({**current_meta(), **meta})
    try:
        yield
    finally:
        _meta.reset(token)
