"""Admin: look-up and configuration. Regulated records are never deleted; domain state changes go
through the services (the pages of the app), so status fields are read-only here."""

from django.contrib import admin

from qms.core.admin import ReadOnlyAdmin, RegulatedAdmin

from . import models


@admin.register(models.Supplier)
class SupplierAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "status", "category", "risk_level")
    list_filter = ("status", "category", "risk_level")
    search_fields = ("code", "name")


@admin.register(models.CertificateTypePolicy)
class CertificateTypePolicyAdmin(RegulatedAdmin):
    list_display = ("cert_type", "reminder_days", "suspends_on_expiry")


@admin.register(models.ScorecardPolicy)
class ScorecardPolicyAdmin(RegulatedAdmin):
    list_display = (
        "site",
        "weight_lar",
        "weight_ppm",
        "weight_scar",
        "weight_cert",
        "grade_a_min",
        "grade_b_min",
        "grade_c_min",
    )


for model, fields in [
    (models.SupplierStatusChange, ("supplier", "from_status", "to_status", "decided_by", "decided_at")),
    (models.Certificate, ("supplier", "cert_type", "number", "valid_until", "status")),
    (models.SupplierAudit, ("supplier", "audited_on", "result")),
    (models.AslEntry, ("supplier", "part", "status", "conditional_until")),
    (models.AslSuspension, ("asl_entry", "cert_type", "suspended_at", "lifted_at")),
    (models.PpapSubmission, ("code", "supplier", "part", "level", "status")),
    (models.ReceiptRecord, ("supplier", "site", "lot_code", "received_on", "accepted")),
    (models.NcrRecord, ("ncr_code", "supplier", "raised_on")),
    (models.ScarRecord, ("scar_code", "supplier", "issued_on", "due_on", "responded_on")),
    (models.Scorecard, ("supplier", "site", "month", "score", "grade")),
]:
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {"list_display": fields}))
