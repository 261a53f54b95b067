"""Issue 10: a user of two sites chooses the site of a new plan (only sites where they may edit plans);
stations and IPQC schedules have their own pages, through services; every admin of a regulated model asks
for the reason for change or is read-only, and editing an IPQC schedule there saves with a reason."""

import datetime

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditEntry
from inspection.models import InspectionPlan, IpqcSchedule, Stage, Station
from inspection.tests import factories as f
from qms.core.audit import RegulatedModel, audit_context
from qms.core.models import Equipment, EquipmentKind, Membership, Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, site, other_site):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER], sites=[site])
    with audit_context(reason="test"):  # an inspector at the second site only
        Membership.objects.create(user=qe, site=other_site, role=Role.INSPECTOR)
    return {
        "qe": qe,
        "qe_both": make_user("qe2", roles=[Role.QUALITY_ENGINEER], sites=[site, other_site]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], sites=[site, other_site]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR], sites=[site, other_site]),
        "auditor": make_user("aud", roles=[Role.AUDITOR]),
    }


def _line(site, code="LINE-1"):
    with audit_context(reason="test"):
        return Equipment.objects.create(code=code, name=code, kind=EquipmentKind.LINE, site=site)


def test_plan_created_at_the_chosen_site_and_only_where_the_user_edits_plans(site, other_site, people, login):
    part = f.part("P-2S")
    client = login(people["qe_both"])
    form = client.get(reverse("inspection:plans")).context["form"]
    assert set(form.fields["site"].queryset) == {site, other_site}
    data = {"site": other_site.pk, "part": part.pk, "stage": "IQC", "title": "t", "scheme": "iso2859",
            "aql": "1.0", "level": "II"}  # fmt: skip
    response = client.post(reverse("inspection:plans"), data)
    assert response.status_code == 302
    assert InspectionPlan.objects.get().site == other_site
    # the first user may edit plans only at `site`: the other site is not offered, and a forged post is refused
    client = login(people["qe"])
    form = client.get(reverse("inspection:plans")).context["form"]
    assert list(form.fields["site"].queryset) == [site]
    response = client.post(reverse("inspection:plans"), data)
    assert response.status_code == 200 and response.context["form"].errors.get("site")
    assert InspectionPlan.objects.count() == 1


def test_station_and_schedule_pages_create_and_edit_through_services(site, people, login):
    line = _line(site)
    plan = f.plan(site, f.part("P-IPQC"), people["qe_both"], people["qm"], stage=Stage.IPQC)
    client = login(people["qe_both"])
    assert client.get(reverse("inspection:setup")).status_code == 200
    response = client.post(
        reverse("inspection:station_new"),
        {"site": site.pk, "code": "ST-L1", "name": "Line 1 patrol", "stages": ["IPQC"], "line": line.pk,
         "inspectors": [people["inspector"].pk]},
    )  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    station = Station.objects.get(code="ST-L1")
    assert list(station.inspectors.all()) == [people["inspector"]]
    response = client.post(
        reverse("inspection:schedule_new"),
        {"site": site.pk, "plan": plan.pk, "line": line.pk, "operation_name": "Assembly", "station": station.pk,
         "every_minutes": 120, "pieces": 5, "grace_minutes": 15},
    )  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    schedule = IpqcSchedule.objects.get()
    url = reverse("inspection:schedule_edit", args=[schedule.pk])
    edit = {"plan": plan.pk, "line": line.pk, "operation_name": "Assembly", "station": station.pk,
            "every_minutes": 60, "pieces": 3, "grace_minutes": 10, "is_active": "on"}  # fmt: skip
    response = client.post(url, edit)  # no reason
    assert response.status_code == 200 and response.context["form"].errors.get("reason")
    response = client.post(url, {**edit, "reason": "customer asked for hourly checks"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.every_minutes, schedule.pieces) == (60, 3)
    assert schedule.next_due_at <= timezone.now() + datetime.timedelta(minutes=61)
    entry = AuditEntry.objects.filter(model="inspection.ipqcschedule", action="update").last()
    assert entry.reason == "customer asked for hourly checks"
    page = client.get(reverse("inspection:setup")).content.decode()
    assert "ST-L1" in page and "LINE-1" in page


@pytest.mark.parametrize(
    "change, field",
    [({"every_minutes": 1}, "every_minutes"), ({"pieces": 0}, "pieces"), ({"grace_minutes": 500}, "grace_minutes")],
)
def test_bad_schedules_are_refused_at_the_field(site, people, login, change, field):
    line = _line(site)
    plan = f.plan(site, f.part("P-IPQC"), people["qe_both"], people["qm"], stage=Stage.IPQC)
    data = {"site": site.pk, "plan": plan.pk, "line": line.pk, "every_minutes": 120, "pieces": 5,
            "grace_minutes": 15, **change}  # fmt: skip
    response = login(people["qe_both"]).post(reverse("inspection:schedule_new"), data)
    assert response.status_code == 200 and response.context["form"].errors.get(field)
    assert not IpqcSchedule.objects.exists()


def test_a_schedule_cannot_use_another_sites_line_or_a_non_ipqc_plan(site, other_site, people):
    from inspection import services
    from qms.core.errors import DomainError

    plan = f.plan(site, f.part("P-IPQC"), people["qe_both"], people["qm"], stage=Stage.IPQC)
    iqc_plan = f.plan(site, f.part("P-IQC"), people["qe_both"], people["qm"])
    with pytest.raises(DomainError, match="production line"):
        services.ipqc_schedule_create(site=site, plan=plan, line=_line(other_site, "FAR"), user=people["qe_both"])
    with pytest.raises(DomainError, match="IPQC plan"):
        services.ipqc_schedule_create(site=site, plan=iqc_plan, line=_line(site), user=people["qe_both"])


def test_setup_pages_refuse_inspectors_and_auditors(people, login):
    for who in ("inspector", "auditor"):
        client = login(people[who])
        assert client.get(reverse("inspection:setup")).status_code == 403
        assert client.get(reverse("inspection:schedule_new")).status_code == 403


def _superuser():
    with audit_context(reason="test"):
        return User.objects.create_superuser("root", "root@example.com", "test-Password-123")


def test_every_admin_of_a_regulated_model_asks_for_a_reason_or_is_read_only(site, people):
    request = RequestFactory().get("/admin/")
    request.user = _superuser()
    for model, model_admin in admin.site._registry.items():
        if not issubclass(model, RegulatedModel):
            continue
        obj = model._base_manager.first()
        if not model_admin.has_change_permission(request, obj) and not model_admin.has_add_permission(request):
            assert not model_admin.has_delete_permission(request, obj), model
            continue
        assert not model_admin.has_delete_permission(request, obj), model
        form_class = model_admin.get_form(request, obj, change=True)
        fields = [f for fs in model_admin.get_fieldsets(request, obj) for f in fs[1]["fields"]]
        assert "reason_for_change" in form_class.base_fields and "reason_for_change" in fields, model


def test_editing_an_ipqc_schedule_in_the_admin_saves_with_the_reason(site, people, client):
    from inspection import services

    line = _line(site)
    plan = f.plan(site, f.part("P-IPQC"), people["qe_both"], people["qm"], stage=Stage.IPQC)
    schedule = services.ipqc_schedule_create(site=site, plan=plan, line=line, user=people["qe_both"])
    client.force_login(_superuser())
    url = reverse("admin:inspection_ipqcschedule_change", args=[schedule.pk])
    assert client.get(url).status_code == 200
    data = {"plan": plan.pk, "line": line.pk, "operation_name": "Grinding", "station": "", "every_minutes": 90,
            "pieces": 4, "grace_minutes": 20, "is_active": "on"}  # fmt: skip
    response = client.post(url, data)  # no reason: the form says so, nothing saved
    assert response.status_code == 200 and "reason" in response.content.decode().lower()
    schedule.refresh_from_db()
    assert schedule.every_minutes == 120
    response = client.post(url, {**data, "reason_for_change": "line speed changed"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.every_minutes, schedule.operation_name) == (90, "Grinding")
    entry = AuditEntry.objects.filter(model="inspection.ipqcschedule", action="update").last()
    assert entry.reason == "line speed changed" and entry.source == "admin"
    # a refusal of the service is a message, not a 500, and nothing is written
    response = client.post(url, {**data, "every_minutes": 2, "reason_for_change": "typo"})
    assert response.status_code in (200, 302)
    schedule.refresh_from_db()
    assert schedule.every_minutes == 90


def test_every_admin_page_answers_without_a_500(site, people, client):
    from inspection import services

    services.ipqc_schedule_create(
        site=site,
        plan=f.plan(site, f.part("P-IPQC"), people["qe_both"], people["qm"], stage=Stage.IPQC),
        line=_line(site),
        user=people["qe_both"],
    )
    client.force_login(_superuser())
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200, model
        obj = model._base_manager.first()
        if obj is not None:
            assert client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code == 200, model
