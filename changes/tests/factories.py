from changes import services
from inspection.tests import factories as insp_f
from nonconformance.tests import factories as nc
from nonconformance.tests.factories import credential  # noqa: F401


def world(site, people):
    """A part with an approved plan, a supplier serving the site with a lot in stock."""
    part = insp_f.part("BRG-6204")
    plan = insp_f.plan(site, part, people["qe"], people["qm"])
    supplier = nc.supplier(site, code="STEEL-1")
    lot = nc.lot(site, part, supplier=supplier, code="LOT-CHG-1")
    return {"part": part, "plan": plan, "supplier": supplier, "lot": lot}


def change(site, people, *, requester="prod", change_type="process", **kw):
    return services.change_request_create(
        site=site,
        title=kw.pop("title", "Coolant 5 % to 7 %"),
        reason=kw.pop("reason", "Grinding burn"),
        change_type=change_type,
        user=people[requester],
        **kw,
    )


def at_board(site, people, **kw):
    c = change(site, people, **kw)
    services.change_submit(change=c, user=c.requested_by)
    services.impact_add(change=c, kind="document", reference="WI-GRD-01", user=people["qe2"])
    return services.assessment_complete(change=c, user=people["qe2"], summary="Plan and WI affected")


def approved(site, people, **kw):
    c = at_board(site, people, **kw)
    for who in ("qm", "qe"):
        services.change_board_sign(change=c, user=people[who], credential=credential(people[who]), vote="approve")
    c.refresh_from_db()
    return c
