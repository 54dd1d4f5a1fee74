"""Abstract base models shared by every domain app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimeStampedModel):
    """A record with a version number bumped on every write, behind the API's ETag."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class AliveQuerySet(models.QuerySet):
    def alive(self) -> AliveQuerySet:
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> AliveQuerySet:
        return self.filter(deleted_at__isnull=False)


class AliveManager(models.Manager):
    """The default manager: records in the trash are left out."""

    def get_queryset(self) -> AliveQuerySet:
        return AliveQuerySet(self.model, using=self._db).filter(deleted_at__isnull=True)


class SoftDeleteModel(models.Model):
    """Deleting moves a record to the trash; an administrator can restore it.

    `objects` sees only live records; `all_objects` sees the trash too.
    """

    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects: Any = AliveManager()
    all_objects: Any = AliveQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
