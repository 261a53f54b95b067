"""Gates: receipt, release, consumption, ship, cycles, work orders and operations, expiry."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from qms.core.errors import DomainError
from qms.core.models import PartType, Role
from traceability import gates, services, signals
from traceability.models import HoldSource, Lot, LotStatus, OperationStatus, WorkOrderStatus

from .factories import customer, link, lot, part, supplier


@pytest.fixture
def user(make_user):
    return make_user("sup", roles=[Role.QUALITY_MANAGER, Role.PRODUCTION_SUPERVISOR])


@pytest.mark.django_db
def test_receive_refused_with_the_suppliers_reasons(site, user):
    s = supplier()  # new supplier: not approved, no approved source list entry
    with pytest.raises(DomainError) as exc:
        services.lot_receive(site=site, part=part(), supplier=s, supplier_lot_code="X1", quantity=10, user=user)
    assert s.code in str(exc.value)
    assert not Lot.objects.exists()


@pytest.mark.django_db
def test_receive_asks_receipt_checks_and_signals_after_commit(
    site, user, supply_ok, django_capture_on_commit_callbacks
):
    s = supplier()
    p = part(shelf_life_days=30)

    def discontinued(*, site, part, supplier):
        return ["Inspection of this part is discontinued (test)."] if part.number == "BLOCKED" else []

    gates.register_receipt_check(discontinued)
    received = []
    signals.lot_received.connect(lambda sender, lot, **kw: received.append(lot.code), weak=False, dispatch_uid="t")
    try:
        blocked = part(number="BLOCKED")
        with pytest.raises(DomainError, match="discontinued"):
            services.lot_receive(site=site, part=blocked, supplier=s, supplier_lot_code="A", quantity=5, user=user)
        with django_capture_on_commit_callbacks(execute=True):
            lot_obj = services.lot_receive(
                site=site, part=p, supplier=s, supplier_lot_code="SUP-77", quantity=5, user=user, code="RCV-1"
            )
    finally:
        gates.unregister(discontinued)
        signals.lot_received.disconnect(dispatch_uid="t")
    assert received == ["RCV-1"]
    assert lot_obj.status == LotStatus.QUARANTINE
    assert lot_obj.expires_on == timezone.localdate() + datetime.timedelta(days=30)
    assert lot_obj.supplier_lot_code == "SUP-77"


@pytest.mark.django_db
def test_release_refused_while_on_hold_or_a_check_objects(site, user):
    x = lot(site, status=LotStatus.QUARANTINE)
    hold = services.lot_hold_place(lot=x, source=HoldSource.NCR, reference="NCR-1", reason="bad", user=user)
    assert "NCR-1" in " ".join(services.lot_release_reasons(x))
    # the status step is no door: without a release signature it refuses
    with pytest.raises(DomainError, match="e-signed release"):
        services.lot_status_release(lot=x, user=user, reason="ok", signature=None)
    # a hold follows its cause: an NCR's hold is not lifted by hand
    with pytest.raises(DomainError, match="follows its cause"):
        services.lot_hold_lift(hold=hold, reason="dispositioned", user=user)
    services.lot_hold_lift(hold=hold, reason="dispositioned", user=user, cause="ncr")

    def needs_iqc(lot):
        return ["IQC not passed."]

    gates.register_release_check(needs_iqc)
    try:
        assert "IQC not passed." in services.lot_release_reasons(x)
    finally:
        gates.unregister(needs_iqc)
    assert services.lot_release_reasons(x) == []


@pytest.mark.django_db
def test_cycle_refused(site, user):
    a, b, c = lot(site), lot(site), lot(site)
    link(a, b)
    link(b, c)
    with pytest.raises(DomainError, match="cycle"):
        services.link_create(parent=c, child=a, quantity=1, user=user)
    with pytest.raises(DomainError, match="cycle"):
        services.link_create(parent=b, child=b, quantity=1, user=user)
    services.link_create(parent=a, child=c, quantity=1, user=user)  # a shortcut is not a cycle


@pytest.fixture
def running_wo(site, user):
    wo = services.work_order_create(
        site=site, part=part(part_type=PartType.FINISHED), operations=["Cut", "Weld"], user=user
    )
    return services.work_order_advance(work_order=wo, step="run", user=user)


@pytest.mark.django_db
def test_consumption_gates(site, other_site, user, running_wo):
    out = services.lot_produce(work_order=running_wo, quantity=10, user=user)
    assert out.status == LotStatus.QUARANTINE and out.work_order == running_wo
    unreleased = lot(site, status=LotStatus.QUARANTINE)
    held = lot(site)
    services.lot_hold_place(lot=held, source=HoldSource.RECALL, reference="RC-1", reason="recall", user=user)
    expired = lot(site, expires_on=timezone.localdate() - datetime.timedelta(days=1))
    foreign = lot(other_site)
    for bad, why in [(unreleased, "Quarantine"), (held, "RC-1"), (expired, "expired"), (foreign, "S2")]:
        with pytest.raises(DomainError, match=why):
            services.lot_consume(lot=bad, into=out, quantity=1, user=user)
    good = lot(site, quantity="5")
    with pytest.raises(DomainError, match="remain"):
        services.lot_consume(lot=good, into=out, quantity=6, user=user)
    services.lot_consume(lot=good, into=out, quantity=5, user=user)
    good.refresh_from_db()
    assert good.status == LotStatus.CONSUMED
    assert [r["code"] for r in __import__("traceability.selectors").selectors.trace_backward(out)] == [good.code]


@pytest.mark.django_db
def test_ship_gate_and_shipment(site, user):
    c = customer()
    q = lot(site, status=LotStatus.QUARANTINE)
    verdict = services.lot_can_ship(lot=q)
    assert not verdict.ok and "Quarantine" in verdict.reasons[0]
    r = lot(site, quantity="10")
    assert services.lot_can_ship(lot=r).ok
    hold = services.lot_hold_place(lot=r, source=HoldSource.NCR, reference="NCR-9", reason="crack", user=user)
    assert "NCR-9" in " ".join(services.lot_can_ship(lot=r).reasons)
    with pytest.raises(DomainError):
        services.shipment_create(lot=r, customer=c, quantity=1, user=user)
    services.lot_hold_lift(hold=hold, reason="MRB use as is", user=user, cause="ncr")

    def customer_block(lot):
        return ["Final inspection missing."]

    gates.register_ship_check(customer_block)
    try:
        assert services.lot_can_ship(lot=r).reasons == ["Final inspection missing."]
    finally:
        gates.unregister(customer_block)
    services.shipment_create(lot=r, customer=c, quantity=4, user=user)
    services.shipment_create(lot=r, customer=c, quantity=6, user=user)
    r.refresh_from_db()
    assert r.status == LotStatus.SHIPPED


@pytest.mark.django_db
def test_work_order_and_operation_checks(site, user):
    wo = services.work_order_create(site=site, part=part(), operations=["Cut", "Weld"], user=user)

    def fai(work_order, step):
        return ["First article not passed."] if step == "run" else []

    gates.register_work_order_check(fai)
    try:
        with pytest.raises(DomainError, match="First article"):
            services.work_order_advance(work_order=wo, step="run", user=user)
    finally:
        gates.unregister(fai)
    wo = services.work_order_advance(work_order=wo, step="run", user=user)
    cut, weld = list(wo.operations.order_by("sequence"))
    with pytest.raises(DomainError, match="Cut"):
        services.operation_start(operation=weld, user=user)

    def ipqc_stop(operation):
        return ["IPQC stop on this line."]

    gates.register_operation_start_check(ipqc_stop)
    try:
        with pytest.raises(DomainError, match="IPQC"):
            services.operation_start(operation=cut, user=user)
    finally:
        gates.unregister(ipqc_stop)
    services.operation_start(operation=cut, user=user)
    with pytest.raises(DomainError, match="operation"):
        services.work_order_advance(work_order=wo, step="complete", user=user)
    services.operation_complete(operation=cut, user=user)
    services.operation_start(operation=weld, user=user)
    services.operation_complete(operation=weld, user=user)
    assert services.work_order_advance(work_order=wo, step="complete", user=user).status == WorkOrderStatus.COMPLETED
    assert all(op.status == OperationStatus.DONE for op in wo.operations.all())
    rec = services.production_record_create(
        work_order=wo,
        user=user,
        started_at=timezone.now(),
        shift="B",
        operators=[user],
        parameters=[
            {"name": "Welding temperature", "value": "1510", "unit": "°C", "lower_limit": 1450, "upper_limit": 1500}
        ],
    )
    assert not rec.parameters.get().in_limits


@pytest.mark.django_db
def test_expiry_job_holds_expired_lots(site):
    from traceability.tasks import lots_expire

    old = lot(site, expires_on=timezone.localdate() - datetime.timedelta(days=2))
    fresh = lot(site, expires_on=timezone.localdate() + datetime.timedelta(days=2))
    assert lots_expire.run() == 1
    assert lots_expire.run() == 0  # idempotent
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == LotStatus.EXPIRED and [h.source for h in old.active_holds()] == ["expiry"]
    assert fresh.status == LotStatus.RELEASED and not fresh.is_on_hold
    assert Decimal(old.quantity) == Decimal("100")
