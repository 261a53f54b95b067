"""Pages that used to answer 500 to odd data (issue 10): each would fail again if its fix were removed."""

import csv
import io

import pytest
from django.urls import reverse

from qms.core.audit import audit_context

pytestmark = pytest.mark.django_db


def test_unknown_master_data_kind_is_404(login, make_user):
    assert login(make_user("qm")).get("/accounts/master-data/nosuchkind/").status_code == 404


def test_lot_list_survives_a_legacy_lot_code_with_a_slash(login, make_user, site):
    from traceability.models import Lot
    from traceability.tests.factories import part

    with audit_context(reason="legacy data loaded before codes were validated"):
        Lot.objects.create(code="A/B<svg>", part=part(), site=site, quantity=1, unit="pcs")
    client = login(make_user("qm"))
    body = client.get("/lots/").content.decode()
    assert "<svg>" not in body and "A/B&lt;svg&gt;" in body
    url = reverse("traceability:lot", args=["A/B<svg>"])
    assert client.get(url).status_code == 200


def test_trace_csv_neutralises_formula_cells(login, make_user, site):
    from traceability.models import Lot, LotLink
    from traceability.tests.factories import part

    with audit_context(reason="legacy data loaded before codes were validated"):
        p = part()
        raw = Lot.objects.create(
            code="RAW-1", part=p, site=site, quantity=1, unit="pcs", supplier_lot_code='=HYPERLINK("http://x","y")'
        )
        fg = Lot.objects.create(code="FG-1", part=p, site=site, quantity=1, unit="pcs")
        LotLink.objects.create(parent=raw, child=fg, quantity=1)
    response = login(make_user("qm")).get(reverse("traceability:trace_csv", args=["FG-1"]))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows and rows[0]["supplier_lot"] == '\'=HYPERLINK("http://x","y")'


def test_receive_form_refuses_unsafe_codes_with_the_allowed_characters(login, make_user, site):
    from qms.core.errors import DomainError
    from traceability.models import Lot
    from traceability.services import lot_receive
    from traceability.tests.factories import part

    with pytest.raises(DomainError, match="letters A-Z"):
        lot_receive(
            site=site, part=part(), supplier=object(), supplier_lot_code="A/B<svg>", quantity=1, user=make_user("qm")
        )
    assert not Lot.objects.exists()
