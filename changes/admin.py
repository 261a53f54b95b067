"""Admin: the change board per site is configured here (audited); change records are read-only (they
change only through their services). No delete."""

from django.contrib import admin

from qms.core.admin import ReadOnlyAdmin, RegulatedAdmin

from .models import BoardRole, ChangeRequest, ChangeTask


@admin.register(BoardRole)
class BoardRoleAdmin(RegulatedAdmin):
    """The roles whose approval a change needs at a site (none: quality manager and quality engineer)."""

    list_display = ("site", "role", "is_active")
    list_filter = ("site", "role")


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "site", "change_type", "urgency", "status", "requested_by", "created_at")
    list_filter = ("site", "status", "change_type")
    search_fields = ("code", "title")


@admin.register(ChangeTask)
class ChangeTaskAdmin(ReadOnlyAdmin):
    list_display = ("change", "description", "owner", "due_on", "status")
    list_filter = ("status", "kind")
