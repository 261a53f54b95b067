"""Admin: plans and inspections are read-only here (they change through their services and e-signatures);
stations and IPQC schedules are maintained with a reason for change, through their services."""

from django.contrib import admin

from qms.core.admin import ReadOnlyAdmin, RegulatedAdmin

from . import services
from .models import Inspection, InspectionPlan, IpqcSchedule, Station


@admin.register(InspectionPlan)
class InspectionPlanAdmin(ReadOnlyAdmin):
    list_display = ("part", "stage", "version", "status", "site")
    list_filter = ("stage", "status", "site")


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ("code", "stage", "status", "part", "lot", "due_at")
    list_filter = ("stage", "status", "site")
    search_fields = ("code",)


@admin.register(Station)
class StationAdmin(RegulatedAdmin):
    list_display = ("code", "name", "site", "stages", "line")
    list_filter = ("site",)
    fields = ("site", "code", "name", "stages", "line", "inspectors")

    def get_readonly_fields(self, request, obj=None):
        return ("site",) if obj else ()

    def save_with_reason(self, request, obj, form, change, reason):
        d = form.cleaned_data
        if change:
            current = Station.objects.get(pk=obj.pk)
            services.station_update(
                station=current, user=request.user, reason=reason, code=d["code"], name=d["name"],
                stages=d["stages"], line=d.get("line"), inspectors=list(d.get("inspectors") or []),
            )  # fmt: skip
        else:
            created = services.station_create(
                site=d["site"], code=d["code"], name=d["name"], stages=d["stages"], line=d.get("line"),
                inspectors=list(d.get("inspectors") or []), user=request.user,
            )  # fmt: skip
            obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        """The service set the inspectors already."""

    def has_add_permission(self, request):
        return False  # created and decided through the services only


@admin.register(IpqcSchedule)
class IpqcScheduleAdmin(RegulatedAdmin):
    list_display = ("__str__", "site", "plan", "every_minutes", "pieces", "next_due_at", "is_active")
    list_filter = ("site", "is_active")
    fields = (
        "site", "plan", "line", "operation_name", "station", "every_minutes", "pieces", "grace_minutes", "is_active",
    )  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return ("site",) if obj else ("is_active",)

    def save_with_reason(self, request, obj, form, change, reason):
        d = form.cleaned_data
        fields = ("plan", "line", "operation_name", "station", "every_minutes", "pieces", "grace_minutes")
        if change:
            services.ipqc_schedule_update(
                schedule=IpqcSchedule.objects.get(pk=obj.pk),
                user=request.user,
                reason=reason,
                is_active=d.get("is_active", obj.is_active),
                **{f: d[f] for f in fields if f in d},
            )
        else:
            created = services.ipqc_schedule_create(
                site=d["site"], user=request.user, **{f: d[f] for f in fields if f in d}
            )
            obj.pk = created.pk
        obj.refresh_from_db()
