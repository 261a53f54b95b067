from django.contrib import admin

from .models import Inspection, InspectionPlan, IpqcSchedule, Station


@admin.register(InspectionPlan)
class InspectionPlanAdmin(admin.ModelAdmin):
    list_display = ("part", "stage", "version", "status", "site")
    list_filter = ("stage", "status", "site")

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False  # created and decided through the services only


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ("code", "stage", "status", "part", "lot", "due_at")
    list_filter = ("stage", "status", "site")
    search_fields = ("code",)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False  # created and decided through the services only


@admin.register(Station, IpqcSchedule)
class ReadOnlyAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False
