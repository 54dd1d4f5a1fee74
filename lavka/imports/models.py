"""Import runs: the file, its mapping, progress checkpoints for resuming, and the
rows that were refused."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedMapping(models.Model):
    """A column mapping saved under a name, to reuse for files of the same shape."""

    name = models.CharField(_("name"), max_length=100)
    target = models.CharField(max_length=32, default="clients")
    mapping = models.JSONField(default=dict)  # {"column header": "field"}
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["target", "name"], name="savedmapping_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ImportRun(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        MAPPED = "mapped", _("Columns mapped")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    target = models.CharField(max_length=32, default="clients")  # clients, orders
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_path = models.CharField(max_length=500)  # inside the data directory
    original_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(max_length=64, blank=True)
    format = models.CharField(max_length=16, blank=True)
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    mapping = models.JSONField(default=dict)  # {"column index": "field"}
    options = models.JSONField(default=dict)  # dry_run, match order, owner ...
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    # Rows up to this one are committed; a resumed run starts after it.
    committed_row = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict)  # created, updated, unchanged, duplicates, rejected
    error_report = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name


class ImportRowError(models.Model):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveBigIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=200, blank=True)
    value = models.CharField(_("value"), max_length=500, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    kind = models.CharField(max_length=16, default="rejected")  # rejected, duplicate

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["run", "row"], name="importerror_run_idx")]

    def __str__(self) -> str:
        return f"{self.row}: {self.reason}"


class OrderImportLine(models.Model):
    """An order import's cleaned line, staged until the whole file has been read: then
    the lines are grouped into orders and written in one transaction, and the run's
    staged lines are deleted. Clients and products are already resolved here. Lean
    (no foreign keys, one index: the primary key), because an import stages millions."""

    pk = models.CompositePrimaryKey("run_id", "row")
    run_id = models.BigIntegerField()
    row = models.BigIntegerField()
    order_key = models.CharField(max_length=100)  # the order's external id
    number = models.CharField(max_length=50, blank=True)
    client_id = models.BigIntegerField()
    ordered_on = models.DateField()
    status = models.CharField(max_length=12)
    currency = models.CharField(max_length=3)
    product_id = models.BigIntegerField(null=True)
    product_code = models.CharField(max_length=64, blank=True)
    product_name = models.CharField(max_length=200, blank=True)
    category_id = models.BigIntegerField(null=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(max_digits=18, decimal_places=2)
    amount = models.DecimalField(max_digits=18, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.run_id}:{self.row}"
