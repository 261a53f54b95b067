import pytest
from django.template.loader import render_to_string
from django.utils import translation

from compliance.pdf import render_report_pdf
from compliance.reports import get_report
from qms.core.importing import import_file
from suppliers import services
from suppliers.models import Certificate, Supplier
from suppliers.tests.factories import approved_supplier, make_part


@pytest.fixture
def scored(site, sqe):
    part = make_part()
    supplier = approved_supplier(sqe, site, part=part)
    for i in range(4):
        services.supplier_receipt_record(
            supplier=supplier, part=part, site=site, lot_code=f"L{i}", accepted=i != 0,
            quantity_inspected=100, quantity_defective=1,
        )  # fmt: skip
    return supplier


@pytest.mark.django_db
@pytest.mark.parametrize("lang,word", [("en", "Lot"), ("zh-hans", "批")])
def test_scorecard_pdf_renders_in_both_languages(scored, qm, lang, word):
    report = get_report("suppliers.scorecard")
    with translation.override(lang):
        ctx = report.build({"supplier": scored.code}, qm)
        body = render_to_string(report.template, {**ctx, "report": report})
    assert scored.code in body and word in body
    pdf, stored = render_report_pdf(key="suppliers.scorecard", params={"supplier": scored.code}, language=lang, user=qm)
    assert pdf.startswith(b"%PDF") and stored.sha256


@pytest.mark.django_db
def test_scorecard_pdf_default_is_all_suppliers(scored, qm):
    ctx = get_report("suppliers.scorecard").build({}, qm)
    assert [c.supplier for c in ctx["rows"]] == [scored]


SUPPLIERS_CSV = """code,name,category,sites,risk_level,contact_email,sqe
SUP-A,Alpha Steel,raw_material,S1,high,qa@alpha.example,sqe1
SUP-B,Beta,nonsense,S1,low,,
SUP-C,Gamma,component,XX,low,not-an-email,
SUP-A,Alpha again,raw_material,S1,high,,
"""


@pytest.mark.django_db
def test_import_suppliers_reports_every_bad_row_and_writes_nothing(site, sqe):
    report = import_file(kind="suppliers", filename="s.csv", content=SUPPLIERS_CSV.encode(), user=sqe)
    assert not report.ok
    assert [line for line, _msg in report.errors] == [3, 4, 5]
    assert not Supplier.objects.exists()
    good = "\n".join(SUPPLIERS_CSV.splitlines()[:2]) + "\nSUP-B,Beta 贝塔,原材料,S1,low,,\n"
    dry = import_file(kind="suppliers", filename="s.csv", content=good.encode(), dry_run=True, user=sqe)
    assert dry.ok and not Supplier.objects.exists()
    done = import_file(kind="suppliers", filename="s.csv", content=good.encode(), user=sqe)
    assert done.ok and done.written == 2
    a = Supplier.objects.get(code="SUP-A")
    assert a.status == "prospective" and a.sqe == sqe and [s.code for s in a.sites.all()] == ["S1"]
    assert Supplier.objects.get(code="SUP-B").category == "raw_material"


@pytest.mark.django_db
def test_import_certificates(site, sqe):
    import_file(kind="suppliers", filename="s.csv", content=b"code,name,category,sites\nSUP-A,A,raw_material,S1\n")
    bad = b"supplier,type,number,valid_until,reviewed_by\nSUP-A,iatf16949,I-1,2027-13-01,\nSUP-Z,iso9001,N,,\n"
    report = import_file(kind="certificates", filename="c.csv", content=bad, user=sqe)
    assert [line for line, _m in report.errors] == [2, 3] and not Certificate.objects.exists()
    good = b"supplier,type,number,valid_until,reviewed_by\nSUP-A,iatf16949,I-1,2027-12-01,sqe1\nSUP-A,iso9001,N-1,,\n"
    assert import_file(kind="certificates", filename="c.csv", content=good, user=sqe).ok
    statuses = dict(Certificate.objects.values_list("number", "status"))
    assert statuses == {"I-1": "valid", "N-1": "pending_review"}
