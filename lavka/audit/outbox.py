"""Subscribers to outbox events. An app subscribes in its AppConfig.ready():

    outbox.subscribe("client.created", "lavka.automation.handlers.on_client_created")

Handlers run in the worker after the writing transaction has committed, take the
event payload, and must be idempotent (an event can be delivered twice).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

_subscribers: dict[str, list[str]] = defaultdict(list)


def subscribe(kind: str, handler_path: str) -> None:
    if handler_path not in _subscribers[kind]:
        _subscribers[kind].append(handler_path)


def unsubscribe(kind: str, handler_path: str) -> None:
    if handler_path in _subscribers.get(kind, []):
        _subscribers[kind].remove(handler_path)


def handlers_for(kind: str) -> list[Callable[[dict[str, Any]], Any]]:
    return [
        import_string(path) for path in [*_subscribers.get(kind, []), *_subscribers.get("*", [])]
    ]
