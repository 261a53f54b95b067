"""Admin for master data and users. Deleting is disabled: regulated records are never deleted.
Changes made here are recorded with the reason the administrator gives."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .audit import audit_context
from .errors import DomainError
from .models import (
    Customer,
    DecisionAuthority,
    Equipment,
    JobRun,
    Membership,
    Notification,
    OutboxJob,
    Part,
    Site,
    User,
)


class ReasonForm(forms.ModelForm):
    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=500,
        help_text=_("Required when changing an existing record (audit trail)."),
    )

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.has_changed() and not data.get("reason_for_change"):
            self.add_error("reason_for_change", _("Give the reason for this change; it goes into the audit trail."))
        return data


class RegulatedAdmin(admin.ModelAdmin):
    form = ReasonForm

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            with audit_context(
                user=request.user, reason=form.cleaned_data.get("reason_for_change", ""), source="admin"
            ):
                obj.save()
        except DomainError as exc:
            messages.error(request, str(exc))
            raise

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if "reason_for_change" in fields:
            fields.remove("reason_for_change")
        return fields + ["reason_for_change"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False
    fk_name = "user"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "email", "is_active", "locked_until")
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("QMS"), {"fields": ("display_name", "preferred_language", "failed_logins", "locked_until")}),
    )
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        with audit_context(user=request.user, reason="changed in administration", source="admin"):
            obj.save()

    def save_formset(self, request, form, formset, change):
        with audit_context(user=request.user, reason="role assignment changed in administration", source="admin"):
            formset.save()


@admin.register(Site)
class SiteAdmin(RegulatedAdmin):
    list_display = ("code", "name", "industry", "requires_qa_release", "auto_release_after_iqc", "is_active")


@admin.register(DecisionAuthority)
class DecisionAuthorityAdmin(RegulatedAdmin):
    """Per-site decision authority (e.g. a QA head's deputy may approve recalls). Rows replace the default
    roles of that decision at that site; see docs/decisions.md."""

    list_display = ("site", "decision", "role", "is_active")
    list_filter = ("site", "decision", "role")


@admin.register(Part)
class PartAdmin(RegulatedAdmin):
    list_display = ("number", "revision", "name", "part_type", "unit", "is_safety_critical", "is_active")
    search_fields = ("number", "name")
    list_filter = ("part_type", "is_active")


@admin.register(Customer)
class CustomerAdmin(RegulatedAdmin):
    list_display = ("code", "name", "country", "is_automotive", "is_active")
    search_fields = ("code", "name")


@admin.register(Equipment)
class EquipmentAdmin(RegulatedAdmin):
    list_display = ("code", "name", "kind", "site", "calibration_due", "is_active")
    list_filter = ("kind", "site")
    search_fields = ("code", "name")


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("name", "started_at", "ok", "attempts")
    list_filter = ("ok", "name")
    readonly_fields = ("name", "started_at", "finished_at", "ok", "attempts", "error")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxJob)
class OutboxJobAdmin(admin.ModelAdmin):
    """Jobs waiting for the broker or a retry, delivered, or given up (read-only: the drain owns them)."""

    list_display = ("task", "created_at", "attempts", "next_try", "published_at", "delivered_at", "failed_at")
    list_filter = ("task",)
    readonly_fields = [f.name for f in OutboxJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(Notification)
