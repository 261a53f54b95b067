"""The evidence is shown in the administration read-only: nothing can be added, changed or deleted here
(the database refuses UPDATE and DELETE on these tables anyway)."""

from django.contrib import admin

from qms.core.admin import ReadOnlyAdmin

from .models import AuditEntry, GeneratedReport, Signature, SignatureAttempt


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "username", "model", "object_id", "object_repr", "action", "reason")
    list_filter = ("action", "model", "source")
    search_fields = ("=object_id", "username", "object_repr", "reason")
    date_hierarchy = "at"
    ordering = ("-seq",)
    show_full_result_count = False


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("signed_at", "printed_name", "signer", "meaning", "model", "object_id", "object_repr")
    list_filter = ("meaning", "model")
    search_fields = ("printed_name", "=object_id", "object_repr")
    list_select_related = ("signer",)


@admin.register(SignatureAttempt)
class SignatureAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "username_given", "model", "reason")
    list_filter = ("reason",)
    list_select_related = ("user",)


@admin.register(GeneratedReport)
class GeneratedReportAdmin(ReadOnlyAdmin):
    list_display = ("document_number", "title", "key", "language", "generated_by", "generated_at", "sha256")
    list_filter = ("key", "language")
    search_fields = ("document_number", "title", "sha256")
    list_select_related = ("generated_by",)
