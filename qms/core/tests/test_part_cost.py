"""Parts' standard cost: set in master data (form, import), history kept, hostile input refused."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.errors import DomainError
from qms.core.importing import import_file
from qms.core.models import Part, PartCost, PartType, Role
from qms.core.services import part_standard_cost_set


@pytest.fixture
def ring(db):
    with audit_context(reason="test"):
        return Part.objects.create(number="RING-1", name="Ring", part_type=PartType.COMPONENT, unit="pcs")


def test_set_keeps_the_history_and_the_cost_in_force(make_user, ring):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    last_year = timezone.now() - datetime.timedelta(days=365)
    part_standard_cost_set(part=ring, cost="3.20", user=qe, reason="2026 costing")
    # back-dated behind the current one: history grows, the cost in force stays 3.20
    part = part_standard_cost_set(part=ring, cost="2.90", user=qe, reason="2025 costing", valid_from=last_year)
    assert part.standard_cost == Decimal("3.20")
    assert PartCost.objects.filter(part=ring).count() == 2
    # the same cost again writes nothing
    part_standard_cost_set(part=ring, cost="3.2", user=qe, reason="again")
    assert PartCost.objects.filter(part=ring).count() == 2
    # cleared: not known from now on
    part = part_standard_cost_set(part=ring, cost="", user=qe, reason="supplier changed, to be costed")
    assert part.standard_cost is None


@pytest.mark.parametrize(
    "cost, match",
    [("NaN", "not a finite"), ("-1", "at least"), ("1e999", "too large"), ("abc", "not a number"),
     ("1.123456", "decimal"), ("12345678901234", "too large")],
)  # fmt: skip
def test_hostile_costs_are_refused_and_nothing_is_written(make_user, ring, cost, match):
    qm = make_user("qm")
    with pytest.raises(DomainError, match=match):
        part_standard_cost_set(part=ring, cost=cost, user=qm, reason="x")
    ring.refresh_from_db()
    assert ring.standard_cost is None and not PartCost.objects.exists()


def test_refusals(make_user, ring):
    inspector = make_user("insp", roles=[Role.INSPECTOR])
    qm = make_user("qm")
    with pytest.raises(DomainError):
        part_standard_cost_set(part=ring, cost="1", user=inspector, reason="x")
    with pytest.raises(DomainError, match="reason"):
        part_standard_cost_set(part=ring, cost="1", user=qm, reason="  ")
    with pytest.raises(DomainError, match="future"):
        part_standard_cost_set(
            part=ring, cost="1", user=qm, reason="x", valid_from=timezone.now() + datetime.timedelta(days=3)
        )
    assert not PartCost.objects.exists()


def test_master_data_form(client, make_user, ring):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    client.force_login(qe)
    listing = client.get(reverse("core:master_data_kind", args=["parts"]))
    url = reverse("core:part_cost", args=[ring.pk])
    assert url in listing.content.decode()
    assert client.get(url).status_code == 200
    bad = client.post(url, {"standard_cost": "Infinity", "reason": "x"})
    assert bad.status_code == 200 and "finite" in bad.content.decode()
    ok = client.post(url, {"standard_cost": "4.75", "valid_from": "2026-01-01", "reason": "2026 costing"})
    assert ok.status_code == 302
    ring.refresh_from_db()
    assert ring.standard_cost == Decimal("4.75")
    assert timezone.localtime(ring.costs.get().valid_from).date() == datetime.date(2026, 1, 1)
    page = client.get(url).content.decode()
    assert "2026 costing" in page and "4.75" in page


def test_master_data_form_refused_to_an_inspector(client, make_user, ring):
    client.force_login(make_user("insp", roles=[Role.INSPECTOR]))
    assert client.get(reverse("core:part_cost", args=[ring.pk])).status_code == 403
    listing = client.get(reverse("core:master_data_kind", args=["parts"])).content.decode()
    assert reverse("core:part_cost", args=[ring.pk]) not in listing


def test_import_sets_costs_with_history_and_an_empty_cell_keeps_the_cost(make_user, ring):
    qm = make_user("qm")
    part_standard_cost_set(part=ring, cost="3", user=qm, reason="first")
    csv = b"number,name,type,unit,standard_cost\nRING-1,Ring,component,pcs,\nBALL-1,Ball,component,pcs,0.15\n"
    report = import_file(kind="parts", filename="p.csv", content=csv, user=qm)
    assert report.ok, report.errors
    ring.refresh_from_db()
    assert ring.standard_cost == Decimal("3")
    ball = Part.objects.get(number="BALL-1")
    assert ball.standard_cost == Decimal("0.15") and ball.costs.get().set_by == qm
    again = b"number,name,type,unit,standard_cost\nRING-1,Ring,component,pcs,3.5\n"
    assert import_file(kind="parts", filename="p.csv", content=again, user=qm).ok
    ring.refresh_from_db()
    assert ring.standard_cost == Decimal("3.5") and ring.costs.count() == 2
    bad = b"number,name,type,unit,standard_cost\nRING-1,Ring,component,pcs,-2\nBALL-1,Ball,component,pcs,NaN\n"
    report = import_file(kind="parts", filename="p.csv", content=bad, user=qm)
    assert [line for line, _msg in report.errors] == [2, 3]
    ring.refresh_from_db()
    assert ring.standard_cost == Decimal("3.5")
