"""Compliance records: the hash-chained audit trail, electronic signatures, generated reports.

These rows are the evidence; they are append-only. On PostgreSQL triggers (migrations 0002, 0003) make
the database itself refuse UPDATE, DELETE and TRUNCATE on the audit trail, the signatures, the generated
reports and the checkpoints; in production the application's role may only SELECT and INSERT them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from qms.core.errors import DomainError


class EvidenceImmutable(DomainError):
    pass


def _refuse(model) -> None:
    raise EvidenceImmutable(
        gettext("%(model)s rows are evidence: they are only ever added, never changed or deleted.")
        % {"model": model._meta.verbose_name}
    )


class AppendOnlyQuerySet(models.QuerySet):
    """The application refuses to change or delete evidence rows; on PostgreSQL the database refuses too."""

    def update(self, **kwargs):
        _refuse(self.model)

    def bulk_update(self, objs, fields, batch_size=None):
        _refuse(self.model)

    def delete(self):
        _refuse(self.model)


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse(type(self))
        kwargs["force_insert"] = True
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(type(self))


class AuditEntry(AppendOnlyModel):
    """One create or change of a regulated record. `seq` is gap-free; each row's hash covers its content
    and the previous row's hash, so altering or removing any row breaks the chain from there on."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("when (UTC)"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=20, blank=True)
    model = models.CharField(_("record type"), max_length=100, db_index=True)  # app_label.modelname
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=300, blank=True)
    action = models.CharField(_("action"), max_length=20)  # create, update, sign, void, ...
    changes = models.JSONField(_("changes"), default=dict)  # {field: [old, new]}
    reason = models.TextField(_("reason for change"), blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # The site of the record described, derived when written (for filtering, not part of the hash:
    # it is recomputable from model + record id). Empty for global records (users, parts, suppliers).
    site_id = models.BigIntegerField(_("site"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("audit trail entry")
        verbose_name_plural = _("audit trail")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["model", "object_id", "seq"]),
            models.Index(fields=["user", "at"]),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.model}:{self.object_id}"


class SignatureMeaning(models.TextChoices):
    AUTHORED = "authored", _("Authored")
    REVIEWED = "reviewed", _("Reviewed")
    APPROVED = "approved", _("Approved")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")
    VERIFIED = "verified", _("Verified")


class Signature(AppendOnlyModel):
    """A 21 CFR Part 11 electronic signature bound to one version of one record (§11.50, §11.70)."""

    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("signer")
    )
    printed_name = models.CharField(_("printed name"), max_length=200)
    meaning = models.CharField(_("meaning"), max_length=20, choices=SignatureMeaning.choices)
    role = models.CharField(_("signed as"), max_length=40, blank=True)
    signed_at = models.DateTimeField(_("signed at (UTC)"), default=timezone.now)
    model = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("record"), max_length=300)
    record_hash = models.CharField(max_length=64)  # SHA-256 of the record's signed content when signed
    # 1: every concrete field of the record; 2: the record's declared signed content (fields + children).
    hash_version = models.PositiveSmallIntegerField(default=1)
    reason = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("electronic signature")
        verbose_name_plural = _("electronic signatures")
        ordering = ["signed_at", "pk"]
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self):
        return f"{self.printed_name} · {self.get_meaning_display()} · {self.signed_at:%Y-%m-%d %H:%M} UTC"


class SignatureAttempt(AppendOnlyModel):
    """Every failed signing attempt is kept (§11.300(d): detect and report unauthorised use)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    username_given = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)
    model = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} UTC · {self.username_given or self.user_id} · {self.reason}"


class GeneratedReport(AppendOnlyModel):
    """Every regulated PDF that left the system: what, for whom, its SHA-256, and the file itself."""

    key = models.CharField(_("report"), max_length=100, db_index=True)
    title = models.CharField(_("title"), max_length=300)
    document_number = models.CharField(_("document number"), max_length=60, unique=True)
    params = models.JSONField(default=dict)
    language = models.CharField(max_length=10)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    generated_at = models.DateTimeField(_("generated at"), default=timezone.now)
    # The site of the record the report is about (None: a report across the requester's sites).
    site = models.ForeignKey(
        "core.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("site")
    )
    sha256 = models.CharField(max_length=64)
    content_sha256 = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to="reports/%Y/%m/")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("generated report")
        verbose_name_plural = _("generated reports")
        ordering = ["-generated_at"]

    def __str__(self):
        return f"{self.document_number} · {self.title}"


class AccessKind(models.TextChoices):
    SIGN_IN = "sign_in", _("Sign-in")
    SIGN_OUT = "sign_out", _("Sign-out")
    SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
    VIEW = "view", _("Record viewed")
    EXPORT = "export", _("Export")
    DOWNLOAD = "download", _("File download")


class AccessEvent(AppendOnlyModel):
    """Who looked at or took what, when, from where: sign-ins (and failed ones), views of regulated record
    pages, exports and file downloads. One INSERT per event (`compliance.access.log_access`); on PostgreSQL
    the database refuses UPDATE, DELETE and TRUNCATE (migration 0006)."""

    kind = models.CharField(_("kind"), max_length=20, choices=AccessKind.choices)
    at = models.DateTimeField(_("when (UTC)"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("user"),
    )
    # The username as given: for a failed sign-in the name that was tried (there may be no such user).
    username = models.CharField(_("username"), max_length=150, blank=True)
    site = models.ForeignKey(
        "core.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("site"),
    )
    model = models.CharField(_("record type"), max_length=100, blank=True)  # app_label.modelname
    object_code = models.CharField(_("record"), max_length=100, blank=True)
    object_pk = models.CharField(_("record id"), max_length=64, blank=True)
    report_key = models.CharField(_("report"), max_length=100, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=10, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    path = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["at"]),
            models.Index(fields=["user", "at"]),
            models.Index(fields=["model", "object_code"]),
            models.Index(fields=["kind", "at"]),
        ]

    def __str__(self):
        what = self.object_code or self.report_key or self.path
        return f"{self.at:%Y-%m-%d %H:%M:%S} UTC · {self.get_kind_display()} · {self.username or '-'} · {what}"


class ExportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """An export that can grow with the data, made in the background: queued → running (progress) →
    ready (a file with its SHA-256) or failed (a message saying why). Status changes only through the
    services in compliance.exports; the file is served only after its hash is checked."""

    key = models.CharField(_("report"), max_length=100)
    title = models.CharField(_("title"), max_length=300, blank=True)
    params = models.JSONField(_("parameters"), default=dict)
    format = models.CharField(_("format"), max_length=10, choices=ExportFormat.choices)
    language = models.CharField(_("language"), max_length=10)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    # The site the exported data belongs to, when the report is about one site's record (else all the
    # requester's sites): who may download it is decided against this site.
    site = models.ForeignKey(
        "core.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("site")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    message = models.TextField(_("message"), blank=True)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    generated_report = models.ForeignKey(
        GeneratedReport, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "status"])]

    def __str__(self):
        return f"{self.title or self.key} ({self.get_format_display()}, {self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def filename(self) -> str:
        base = self.generated_report.document_number if self.generated_report_id else f"{self.key}-{self.pk}"
        return f"{base}.{self.format}"


class AuditCheckpoint(AppendOnlyModel):
    """The chain head anchored outside the table: sequence and hash of the newest entry at `created_at`,
    signed (HMAC-SHA256) with a key kept outside the database, and also written to an append-only log file.
    Removing the newest entries, or all of them, leaves the chain shorter than its last checkpoint."""

    seq = models.BigIntegerField(_("sequence"), db_index=True)
    head_hash = models.CharField(_("head hash"), max_length=64)
    created_at = models.DateTimeField(_("created at (UTC)"), default=timezone.now)
    key_id = models.CharField(_("key id"), max_length=16)
    signature = models.CharField(_("signature (HMAC-SHA256)"), max_length=64)

    class Meta:
        verbose_name = _("audit trail checkpoint")
        verbose_name_plural = _("audit trail checkpoints")
        ordering = ["seq", "pk"]

    def __str__(self):
        return f"#{self.seq} {self.head_hash[:12]}"
