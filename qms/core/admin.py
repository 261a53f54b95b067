"""Admin for master data and users. Deleting is disabled: regulated records are never deleted.
Changes made here are recorded with the reason the administrator gives."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpResponseRedirect
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
    PartCost,
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
        if self.instance.pk and self.has_changed() and not (data.get("reason_for_change") or "").strip():
            self.add_error("reason_for_change", _("Give the reason for this change; it goes into the audit trail."))
        return data


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through their services (or never): shown, not added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


class RegulatedAdmin(admin.ModelAdmin):
    """A regulated record maintained here: the change form asks for the reason for change, which goes with
    the save into the audit trail. A refusal of the domain (a DomainError) is shown as a message, never a
    500, and nothing is half-written (the admin's change form runs in one transaction).

    Subclasses whose model has a service override `save_with_reason` to call it."""

    form = ReasonForm

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def save_with_reason(self, request, obj, form, change, reason: str):
        obj.save(reason=reason) if change else obj.save()

    def _reason(self, form, change) -> str:
        reason = (form.cleaned_data.get("reason_for_change") or "").strip()
        return reason if change else reason or _("created in administration")

    def save_model(self, request, obj, form, change):
        reason = self._reason(form, change)
        with audit_context(user=request.user, reason=reason, source="admin"):
            self.save_with_reason(request, obj, form, change, reason)

    def save_related(self, request, form, formsets, change):
        with audit_context(user=request.user, reason=self._reason(form, change), source="admin"):
            super().save_related(request, form, formsets, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # raised inside the change form's transaction: rolled back
            messages.error(request, str(exc))
            return HttpResponseRedirect(request.get_full_path())

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

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "site")


class UserReasonForm(UserChangeForm):
    reason_for_change = ReasonForm.base_fields["reason_for_change"]

    def clean(self):
        data = super().clean()
        if self.has_changed() and not (data.get("reason_for_change") or "").strip():
            self.add_error("reason_for_change", _("Give the reason for this change; it goes into the audit trail."))
        return data


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "email", "is_active", "locked_until")
    form = UserReasonForm
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("QMS"), {"fields": ("display_name", "preferred_language", "failed_logins", "locked_until")}),
        (_("Reason for change"), {"fields": ("reason_for_change",)}),
    )
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def _reason(self, form, change):
        if not change:
            return _("created in administration")
        # no reason: a change to a role below is refused by the audit trail (shown as a message)
        return (form.cleaned_data.get("reason_for_change") or "").strip()

    def save_model(self, request, obj, form, change):
        with audit_context(user=request.user, reason=self._reason(form, change), source="admin"):
            obj.save()

    def save_formset(self, request, form, formset, change):
        with audit_context(user=request.user, reason=self._reason(form, change), source="admin"):
            formset.save()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(request.get_full_path())


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
    list_display = ("number", "revision", "name", "part_type", "unit", "standard_cost", "is_active")
    search_fields = ("number", "name")
    list_filter = ("part_type", "is_active")
    # The standard cost changes only through master data (part_standard_cost_set), which keeps its history.
    readonly_fields = ("standard_cost",)


@admin.register(PartCost)
class PartCostAdmin(ReadOnlyAdmin):
    list_display = ("part", "standard_cost", "valid_from", "set_by", "reason")
    search_fields = ("part__number",)


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
class JobRunAdmin(admin.ModelAdmin):  # not regulated: the record of a background run
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
