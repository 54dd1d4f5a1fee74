"""Reads of the client base. Every read starts from a `*_visible_to(viewer)` selector."""

from lavka.clients.selectors.core import client_get, client_list, clients_visible_to

__all__ = ["client_get", "client_list", "clients_visible_to"]
