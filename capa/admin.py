"""Admin: read-only views of CAPAs, actions, checks and SCARs (they change only through their services).
No delete."""

from django.contrib import admin

from qms.core.admin import ReadOnlyAdmin

from .models import Capa, CapaAction, EffectivenessCheck, Scar


@admin.register(Capa)
class CapaAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "site", "form", "status", "owner", "created_at")
    list_filter = ("site", "status", "form", "source")
    search_fields = ("code", "title")


@admin.register(CapaAction)
class CapaActionAdmin(ReadOnlyAdmin):
    list_display = ("capa", "description", "owner", "due_on", "status")
    list_filter = ("status",)


@admin.register(EffectivenessCheck)
class EffectivenessCheckAdmin(ReadOnlyAdmin):
    list_display = ("capa", "due_on", "result", "checked_by")


@admin.register(Scar)
class ScarAdmin(ReadOnlyAdmin):
    list_display = ("code", "supplier", "status", "issued_on", "due_on", "responded_on")
    list_filter = ("site", "status")
