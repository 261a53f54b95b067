"""Admin: read-only views of documents, versions and training (they change only through their services).
Reporting lines (who a person reports to) are edited here, audited. No delete."""

from django.contrib import admin

from qms.core.admin import ReadOnlyAdmin, RegulatedAdmin

from .models import (
    Document,
    DocumentVersion,
    GateRule,
    ReportingLine,
    SiteTrainingSetting,
    TrainingRecord,
    TrainingRequirement,
    TrainingTask,
    VersionReview,
)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "site", "doc_type", "status", "owner", "next_review_on")
    list_filter = ("site", "doc_type", "status")
    search_fields = ("number", "title")


@admin.register(DocumentVersion)
class DocumentVersionAdmin(ReadOnlyAdmin):
    list_display = ("document", "label", "status", "effective_from", "effective_at", "author", "approved_by")
    list_filter = ("status",)


@admin.register(VersionReview)
class VersionReviewAdmin(ReadOnlyAdmin):
    list_display = ("version", "reviewer", "round", "status", "decided_at")


@admin.register(TrainingRequirement)
class TrainingRequirementAdmin(ReadOnlyAdmin):
    list_display = ("document", "role", "method", "due_days", "valid_months", "is_active")


@admin.register(TrainingTask)
class TrainingTaskAdmin(ReadOnlyAdmin):
    list_display = ("version", "user", "method", "due_on", "status")
    list_filter = ("status", "site")


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ReadOnlyAdmin):
    list_display = ("version", "user", "method", "trained_at", "assessment", "expires_on")
    list_filter = ("site", "method")


@admin.register(SiteTrainingSetting)
class SiteTrainingSettingAdmin(ReadOnlyAdmin):
    list_display = ("site", "gate_mode", "review_reminder_days")


@admin.register(GateRule)
class GateRuleAdmin(ReadOnlyAdmin):
    list_display = ("site", "decision", "document", "is_active")


@admin.register(ReportingLine)
class ReportingLineAdmin(RegulatedAdmin):
    list_display = ("site", "user", "manager")
    list_filter = ("site",)

    def has_delete_permission(self, request, obj=None):
        return False
