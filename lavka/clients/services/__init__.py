"""Writes for the client base. Each checks permission, validates, writes in one
transaction, records an audit event and publishes an outbox event.

The modules: `core` (clients, tiers, tags), and one per block or concern.
"""

from lavka.clients.services.core import (
    client_create,
    client_delete,
    client_update,
)

__all__ = ["client_create", "client_delete", "client_update"]
