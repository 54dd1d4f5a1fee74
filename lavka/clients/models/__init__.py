"""The client base's models: see each module."""

from lavka.clients.models.client import Client, Tag, Tier, TierChange
from lavka.clients.models.contact import Address, Consent, ContactPoint
from lavka.clients.models.contract import Attachment, Contract
from lavka.clients.models.duplicates import ClientMerge, DuplicateCandidate
from lavka.clients.models.people import Employment, Person
from lavka.clients.models.personal import CustomField, ImportantDate
from lavka.clients.models.timeline import SavedView, Task, Touchpoint

__all__ = [
    "Address",
    "Attachment",
    "Client",
    "ClientMerge",
    "Consent",
    "ContactPoint",
    "Contract",
    "CustomField",
    "DuplicateCandidate",
    "Employment",
    "ImportantDate",
    "Person",
    "SavedView",
    "Tag",
    "Task",
    "Tier",
    "TierChange",
    "Touchpoint",
]
