"""MRB decision signatures cover the vote and the disposition lines; an NCR verification does not break
when the NCR is closed; a round sent back supersedes its decisions instead of invalidating them."""

import pytest
from django.db import connection

from compliance.signatures import CHANGED, SUPERSEDED, VALID, signatures_with_validity
from nonconformance import services
from nonconformance.models import Disposition, MrbDecision, MrbRole

from . import factories as f
from .test_ncr_services import _sign

pytestmark = pytest.mark.django_db


def decision_states(disposition):
    out = []
    for d in MrbDecision.objects.filter(disposition=disposition).order_by("pk"):
        out += [(d.round, d.mrb_role, s.state) for s, _ok in signatures_with_validity(d)]
    return out


def test_sql_change_of_a_line_quantity_invalidates_the_decisions(site, people):
    qe = people["qe"]
    ncr = f.ncr_in_review(site, qe, qe, [("rework", 10, {})], qty_confirmed=10)
    _sign(ncr.mrb, people["prod"], MrbRole.PRODUCTION)
    assert [s for *_x, s in decision_states(ncr.mrb)] == [VALID]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE nonconformance_dispositionline SET quantity = quantity * 100 WHERE disposition_id = %s",
            [ncr.mrb.pk],
        )
    assert [s for *_x, s in decision_states(ncr.mrb)] == [CHANGED]


def test_decisions_of_a_rejected_round_show_superseded(site, people):
    qe = people["qe"]
    ncr = f.ncr_in_review(site, qe, qe, [("rework", 10, {})], qty_confirmed=10)
    _sign(ncr.mrb, people["prod"], MrbRole.PRODUCTION)
    _sign(ncr.mrb, people["qm"], MrbRole.QUALITY, vote="reject", comment="scrap it")
    disposition = Disposition.objects.get(pk=ncr.mrb.pk)
    services.disposition_line_void(line=disposition.lines.get(), user=qe)
    services.disposition_line_add(ncr=ncr, kind="scrap", quantity=10, user=qe)
    services.disposition_submit(ncr=ncr, user=qe)
    disposition.refresh_from_db()
    _sign(disposition, people["qm"], MrbRole.QUALITY)
    states = decision_states(disposition)
    assert [(r, s) for r, _role, s in states] == [(1, SUPERSEDED), (1, SUPERSEDED), (2, VALID)]
    assert all(
        ok for d in MrbDecision.objects.filter(disposition=disposition) for _s, ok in signatures_with_validity(d)
    )
