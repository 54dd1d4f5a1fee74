"""The audit log and the event outbox.

Audit events are written in the same transaction as the change they describe and
are never edited: the model refuses updates and deletes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("audit events cannot be changed")

    def delete(self) -> Any:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    def for_record(self, obj: models.Model) -> AuditEventQuerySet:
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj.__class__), object_id=str(obj.pk)
        )


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", pgettext_lazy("audit action", "created")
        UPDATE = "update", pgettext_lazy("audit action", "changed")
        DELETE = "delete", pgettext_lazy("audit action", "moved to trash")
        RESTORE = "restore", pgettext_lazy("audit action", "restored")
        MERGE = "merge", pgettext_lazy("audit action", "merged")
        LOGIN = "login", pgettext_lazy("audit action", "logged in")
        LOGIN_FAILED = "login_failed", pgettext_lazy("audit action", "failed to log in")
        LOGOUT = "logout", pgettext_lazy("audit action", "logged out")
        PASSWORD_CHANGE = "password_change", pgettext_lazy("audit action", "changed password")
        PASSWORD_RESET = "password_reset", pgettext_lazy("audit action", "reset password")
        TOKEN_CREATE = "token_create", pgettext_lazy("audit action", "created an API token")
        TOKEN_REVOKE = "token_revoke", pgettext_lazy("audit action", "revoked an API token")
        OTHER = "other", pgettext_lazy("audit action", "other")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_repr = models.CharField(max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(_("record"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    meta = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_record_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_repr} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")


class OutboxEvent(models.Model):
    """A domain event written with the change; dispatched to subscribers after commit.

    Later apps (business rules, campaigns) subscribe in their AppConfig.ready().
    """

    kind = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=models.Q(dispatched_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
