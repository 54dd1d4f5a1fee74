"""Kinds of import that apps above this one add to the engine (leads): what the
import services need to know of a target they do not implement themselves.

Clients and orders are built in (`services.TARGETS`). An app above `imports` cannot be
imported from here, so it registers its target in its `AppConfig.ready()`; the
services, the selectors, the background task, the command line and the API then
treat it like the built-in ones (upload, mapping, saved mappings, preview, dry run,
background job with progress, resume, the row-error report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImportTarget:
    name: str  # ImportRun.target, SavedMapping.target
    resource: str  # named by NotPermitted, e.g. "lead"
    job_kind: str  # Job.kind of its runs, e.g. "leads.import"
    can_import: Callable[[Any], bool]  # (actor) -> whether they may import these
    field_choices: Callable[[], list[tuple[str, str]]]  # [(field, label)], in order
    auto_map: Callable[[list[str]], dict[int, str]]  # header -> {column index: field}
    # (fields mapped) -> what is missing, one message each; empty when runnable.
    mapping_problems: Callable[[set[str]], list[str]]
    # (run=, actor=, dry_run=, progress=, workers=) -> {"counts", "error_report", ...}
    execute: Callable[..., dict[str, Any]]
    # (viewer=, run=, limit=) -> import_preview's shape
    preview: Callable[..., dict[str, Any]]
    message: Callable[[dict[str, Any]], str]  # (counts) -> the outcome in one sentence
    # (options) -> the cleaned import-wide choices; raises ValidationFailed.
    options_clean: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def fields(self) -> list[str]:
        return [name for name, _label in self.field_choices()]


_TARGETS: dict[str, ImportTarget] = {}


def import_target_register(target: ImportTarget) -> None:
    """Add (or replace: `ready()` may run twice in tests) a kind of import."""
    _TARGETS[target.name] = target


def import_target(name: str) -> ImportTarget | None:
    """The registered target of this name; None for clients, orders and unknown names."""
    return _TARGETS.get(name)
