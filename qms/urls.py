from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from qms.core.views_auth import public
from qms.portal.views import healthz

admin.site.site_header = "QMS administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path(settings.ADMIN_URL, admin.site.urls),  # ADMIN_URL, default admin/
    path("accounts/", include("qms.core.urls")),
    path("compliance/", include("compliance.urls")),
    path("suppliers/", include("suppliers.urls")),
    path("lots/", include("traceability.urls")),
    path("inspection/", include("inspection.urls")),
    path("ncr/", include("nonconformance.urls")),
    path("capa/", include("capa.urls")),
    path("monitor/", include("monitoring.urls")),
    path("documents/", include("documents.urls")),
    path("batch/", include("batchrecords.urls")),
    path("changes/", include("changes.urls")),
    path("audits/", include("audits.urls")),
    path("packs/", include("packs.urls")),
    path("api/", include("api.urls")),
    path("", include("qms.portal.urls")),
]
