"""Reads of the client base. Every read starts from a `*_visible_to(viewer)` selector;
records that hang off a client (contracts, touchpoints, files...) are visible exactly
when their client is."""

from lavka.clients.selectors.core import client_get, client_list, clients_visible_to

__all__ = ["client_get", "client_list", "clients_visible_to"]
