"""Admin: the defect catalogue and the MRB rule table are maintained here (with a reason for change);
NCRs, dispositions and complaints are read-only (they change only through their services). No delete."""

from django.contrib import admin

from qms.core.admin import ReadOnlyAdmin, RegulatedAdmin

from .models import Complaint, ContainmentAction, DefectCode, Disposition, DispositionLine, MrbDecision, MrbRule, Ncr


@admin.register(DefectCode)
class DefectCodeAdmin(RegulatedAdmin):
    list_display = ("code", "name", "category", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("code", "name")


@admin.register(MrbRule)
class MrbRuleAdmin(RegulatedAdmin):
    list_display = ("site", "disposition_type", "mrb_role", "min_value", "is_active")
    list_filter = ("site", "disposition_type", "mrb_role")


@admin.register(Ncr)
class NcrAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "site", "source", "severity", "status", "created_at")
    list_filter = ("site", "status", "source", "severity")
    search_fields = ("code", "title")


@admin.register(Disposition)
class DispositionAdmin(ReadOnlyAdmin):
    list_display = ("ncr", "status", "round", "proposed_by")


@admin.register(DispositionLine)
class DispositionLineAdmin(ReadOnlyAdmin):
    list_display = ("disposition", "kind", "quantity", "executed_at", "voided")


@admin.register(MrbDecision)
class MrbDecisionAdmin(ReadOnlyAdmin):
    list_display = ("disposition", "round", "mrb_role", "reviewer", "vote", "decided_at")


@admin.register(ContainmentAction)
class ContainmentActionAdmin(ReadOnlyAdmin):
    list_display = ("ncr", "kind", "owner", "due_on", "done_at")


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "customer", "status", "response_due_on")
    list_filter = ("site", "status")
    search_fields = ("code", "title")
