"""import_data lots / genealogy: every bad row reported with its line, nothing written unless all good."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from qms.core.importing import import_file
from traceability.importers import find_cycle_edges
from traceability.models import Lot, LotLink, LotStatus

from .factories import lot, part, supplier


def run(kind, text):
    return import_file(kind=kind, filename="f.csv", content=text.encode("utf-8"))


@pytest.mark.django_db
def test_lot_import_bad_rows_write_nothing(site):
    part(number="PN-1")
    s = supplier(code="SUP-1")
    lot(site, "EXISTS")
    report = run(
        "lots",
        "code,part_number,quantity,supplier_code,supplier_lot,status\n"
        "A1,PN-1,10,SUP-1,SL-1,\n"
        "A2,NOPE,10,,,\n"
        "A3,PN-1,-1,,,\n"
        "EXISTS,PN-1,1,,,\n"
        "A1,PN-1,1,,,\n"
        "A6,PN-1,1,NOSUP,,\n"
        "A7,PN-1,1,,,flying\n",
    )
    assert [line for line, _msg in report.errors] == [3, 4, 5, 6, 7, 8]
    assert Lot.objects.count() == 1
    report = run("lots", "code,part_number,quantity,supplier_code,supplier_lot\nA1,PN-1,10,SUP-1,SL-1\nA2,PN-1,5,,\n")
    assert report.ok and report.written == 2
    a1 = Lot.objects.get(code="A1")
    assert a1.status == LotStatus.QUARANTINE and a1.site == site and a1.supplier == s and a1.supplier_lot_code == "SL-1"


@pytest.mark.django_db
def test_genealogy_import_refuses_cycles_and_unknown_lots(site):
    p = part()
    for code in ("G1", "G2", "G3", "G4"):
        lot(site, code, part_obj=p)
    LotLink.objects.create(parent=Lot.objects.get(code="G1"), child=Lot.objects.get(code="G2"), quantity=1)
    report = run(
        "genealogy",
        "parent_lot,child_lot,quantity\nG2,G3,1\nG3,G1,1\nG1,G1,1\nG9,G1,1\nG1,G2,1\nG3,G4,0\n",
    )
    by_line = dict(report.errors)
    assert set(by_line) == {2, 3, 4, 5, 6, 7}  # G2->G3 closes the cycle G1->G2->G3->G1 with G3->G1
    assert "cycle" in by_line[3] and "G9" in by_line[5] and "already exists" in by_line[6]
    assert LotLink.objects.count() == 1
    report = run("genealogy", "parent_lot,child_lot,quantity\nG2,G3,1\nG3,G4,2\n")
    assert report.ok and LotLink.objects.count() == 3


@pytest.mark.django_db
def test_import_command_reports_lines(site, tmp_path):
    part(number="PN-2")
    f = tmp_path / "lots.csv"
    f.write_text("code,part_number,quantity\nOK1,PN-2,1\nBAD,PN-X,1\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_data", "lots", str(f), stderr=err)
    assert "lots.csv:3:" in err.getvalue()
    assert not Lot.objects.exists()


def test_cycle_finder():
    assert find_cycle_edges([(1, 2), (2, 3), (3, 1), (3, 4), (4, 5)]) == {(1, 2), (2, 3), (3, 1)}
    assert find_cycle_edges([(1, 2), (1, 3), (2, 4), (3, 4)]) == set()
    chain = [(i, i + 1) for i in range(5000)] + [(5000, 0)]
    assert len(find_cycle_edges(chain)) == 5001


@pytest.mark.django_db
@pytest.mark.parametrize("qty", ["NaN", "Infinity", "1e999", "1" * 40, "-3"])
def test_import_quantities_are_bounded(site, qty):
    part(number="PN-1")
    report = run("lots", f"code,part_number,quantity\nL1,PN-1,{qty}\n")
    assert report.errors and report.errors[0][0] == 2 and "quantity" in report.errors[0][1]
    assert not Lot.objects.exists()


@pytest.mark.django_db
def test_imported_lots_land_in_quarantine_and_an_import_never_releases(site, make_user):
    """One door per decision: a release is e-signed; a plain import gives no signature, so a row marked
    released is refused whoever imports it (issue 9), unless it is a signed history import (issue 10,
    tests/test_issue10_history_import.py)."""
    from qms.core.models import Role

    part(number="PN-1")
    text = "code,part_number,quantity,status\nH1,PN-1,5,released\n"
    for user in (make_user("admin", roles=[Role.ADMINISTRATOR]), make_user("qm"), None):
        report = import_file(kind="lots", filename="f.csv", content=text.encode(), user=user)
        assert report.errors and "choose “history import”" in report.errors[0][1]
        assert not Lot.objects.exists()
    report = import_file(
        kind="lots", filename="f.csv", content=b"code,part_number,quantity,status\nH1,PN-1,5,\n", user=None
    )
    assert report.ok, report.errors
    assert Lot.objects.get(code="H1").status == LotStatus.QUARANTINE


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["A/B<svg>", "=HYPERLINK(1)", "L 1"])
def test_imported_lot_codes_keep_to_the_safe_set(site, code):
    part(number="PN-1")
    report = run("lots", f'code,part_number,quantity,supplier_code,supplier_lot\n"{code}",PN-1,1,,\n')
    assert report.errors and "letters A-Z" in report.errors[0][1]
    assert not Lot.objects.exists()
