"""Issue 10: "Imported lots default to quarantine; importing as released needs release authority at that
site and is recorded as history import." One door (`lot.release_history`), e-signed by the importer,
authority checked per row and per site, every row validated before anything is written, all or nothing."""

import os
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from compliance.models import AuditEntry, Signature
from compliance.signatures import signature_authenticate
from conftest import PASSWORD
from inspection.models import LotRelease
from qms.core.audit import audit_context
from qms.core.errors import DomainError
from qms.core.importing import import_file
from qms.core.models import Membership, Role
from traceability.models import Lot, LotStatus
from traceability.tests.factories import part

pytestmark = pytest.mark.django_db

HEADER = "code,part_number,quantity,site,status\n"


@pytest.fixture
def pn(db):
    return part(number="PN-1")


@pytest.fixture
def qm(make_user, site):
    return make_user("qmh", roles=[Role.QUALITY_MANAGER])


def _grant(user, site, role):
    with audit_context(reason="test"):
        Membership.objects.create(user=user, site=site, role=role)
    user.__dict__.pop("_qms_memberships", None)


def _run(user, text, *, history=True, credential=None, dry_run=False):
    return import_file(
        kind="lots",
        filename="history.csv",
        content=text.encode(),
        user=user,
        dry_run=dry_run,
        options={"release_as_history": history, "credential": credential},
    )


def _sign(user):
    return signature_authenticate(user=user, password=PASSWORD, purpose="test")


def _nothing_written():
    return not Lot.objects.exists() and not LotRelease.objects.exists() and not Signature.objects.exists()


def test_released_rows_are_refused_without_the_history_import_or_without_a_signature(qm, pn, site):
    text = HEADER + "H1,PN-1,5,S1,released\nH2,PN-1,5,S1,\n"
    plain = _run(qm, text, history=False)
    assert [line for line, _m in plain.errors] == [2] and "history import" in plain.errors[0][1]
    unsigned = _run(qm, text, history=True, credential=None)
    assert [line for line, _m in unsigned.errors] == [2] and "sign the history import" in unsigned.errors[0][1]
    assert _nothing_written()
    # a dry run checks authority without a signature
    assert _run(qm, text, history=True, dry_run=True).ok and _nothing_written()


def test_refused_per_row_for_a_user_without_release_authority_at_that_site(make_user, pn, site, other_site):
    # may import lots at both sites, may release only at S1 (administrator at S2 holds no release authority)
    person = make_user("mixed", roles=[Role.QUALITY_MANAGER])
    _grant(person, other_site, Role.ADMINISTRATOR)
    text = HEADER + "M1,PN-1,5,S1,released\nM2,PN-1,5,S2,released\nM3,PN-1,5,S2,\nM4,PN-1,5,S2,released\n"
    report = _run(person, text, credential=_sign(person))
    assert [line for line, _m in report.errors] == [3, 5]
    assert all("no release authority at S2" in m for _l, m in report.errors)
    assert _nothing_written()  # the good S1 row is not written either
    # an administrator alone (imports lots, releases nothing) is refused on every released row
    admin = make_user("adm", roles=[Role.ADMINISTRATOR])
    report = _run(admin, HEADER + "A1,PN-1,5,S1,released\n", credential=_sign(admin))
    assert report.errors and "no release authority at S1" in report.errors[0][1]
    assert _nothing_written()


def test_a_user_of_the_other_site_cannot_name_it(make_user, pn, site, other_site):
    food = make_user("foodqm", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    report = _run(food, HEADER + "F1,PN-1,5,S2,released\nF2,PN-1,5,S1,released\n", credential=_sign(food))
    assert [line for line, _m in report.errors] == [3] and "Site “S1”" in report.errors[0][1]
    assert _nothing_written()


def test_signed_history_import_releases_the_lots_through_the_door_and_records_it(qm, pn, site):
    text = HEADER + "R1,PN-1,5,S1,released\nR2,PN-1,7,S1,Released\nQ1,PN-1,1,S1,\n"
    report = _run(qm, text, credential=_sign(qm))
    assert report.ok, report.errors
    assert report.written == 3
    assert Lot.objects.get(code="Q1").status == LotStatus.QUARANTINE
    for code in ("R1", "R2"):
        lot = Lot.objects.get(code=code)
        assert lot.status == LotStatus.RELEASED
        release = LotRelease.objects.get(lot=lot)
        assert release.history_import and not release.automatic and release.released_by == qm
        assert "history import from history.csv" in release.reason
        sig = Signature.objects.get(model="inspection.lotrelease", object_id=str(release.pk))
        assert sig.signer == qm and sig.meaning == "released" and sig.role == "history import"
        # the audit trail: the release of the lot, by the importer, with the history-import reason
        entry = AuditEntry.objects.get(model="traceability.lot", object_id=str(lot.pk), action="release")
        assert entry.user_id == qm.pk and "history import" in entry.reason
    assert not LotRelease.objects.filter(lot__code="Q1").exists()


def test_the_door_refuses_another_persons_signature_and_lots_inspected_or_released_here(qm, make_user, pn, site):
    from inspection.services import lot_release_history
    from traceability.tests.factories import lot

    other = make_user("other", roles=[Role.QUALITY_MANAGER])
    q = lot(site, "DQ1", part_obj=pn, status=LotStatus.QUARANTINE)
    with pytest.raises(DomainError, match="own password"):
        lot_release_history(lots=[q], user=qm, credential=_sign(other))
    done = lot(site, "DR1", part_obj=pn, status=LotStatus.RELEASED)
    with pytest.raises(DomainError, match="only lots it brings in"):
        lot_release_history(lots=[q, done], user=qm, credential=_sign(qm))
    assert Lot.objects.get(code="DQ1").status == LotStatus.QUARANTINE and not LotRelease.objects.exists()


@pytest.mark.parametrize(
    "rows, message",
    [
        ("B1,PN-1,5,S1,shipped\n", "quarantine or as released"),
        ("B1,PN-1,NaN,S1,released\n", "quantity"),
        ("B1,PN-1,5,S1,released\nB1,PN-1,5,S1,released\n", "more than once"),
        ("B<1>,PN-1,5,S1,released\n", "letters A-Z"),
    ],
)
def test_hostile_rows_write_nothing(qm, pn, site, rows, message):
    report = _run(qm, HEADER + "OK1,PN-1,5,S1,released\n" + rows, credential=_sign(qm))
    assert report.errors and message in " ".join(m for _l, m in report.errors)
    assert _nothing_written()


def _post(client, text, token, **extra):
    data = {
        "file": SimpleUploadedFile("history.csv", text.encode(), content_type="text/csv"),
        "release_as_history": "on",
        "password": PASSWORD,
        "username": "qmh",
        "form_token": token,
        **extra,
    }
    return client.post(reverse("traceability:lot_import"), data)


def test_the_import_page_signs_once_and_a_repeated_post_writes_nothing_twice(login, qm, pn, site):
    client = login(qm)
    page = client.get(reverse("traceability:lot_import"))
    assert page.status_code == 200 and "History import" in page.content.decode()
    text = HEADER + "W1,PN-1,5,S1,released\nW2,PN-1,5,S1,\n"
    first = _post(client, text, "0" * 31 + "1")
    assert first.status_code == 302, first.content.decode()[:2000]
    assert Lot.objects.get(code="W1").status == LotStatus.RELEASED and LotRelease.objects.count() == 1
    again = _post(client, text, "0" * 31 + "1")
    assert again.status_code == 302 and Lot.objects.count() == 2 and LotRelease.objects.count() == 1
    assert Signature.objects.filter(meaning="released").count() == 1
    # the same file with a fresh form: every row already exists, nothing written
    third = _post(client, text, "0" * 31 + "2")
    assert third.status_code == 200 and "already exists" in third.content.decode()
    assert Lot.objects.count() == 2 and LotRelease.objects.count() == 1
    # the lot page shows the release as a history import
    detail = client.get(reverse("traceability:lot", args=["W1"])).content.decode()
    assert "history import, e-signed by" in detail


def test_the_import_page_releases_a_bounded_number_per_file(login, qm, pn, site, settings):
    """Each history release is signed and chained (about 15 ms): the page takes at most
    QMS_HISTORY_IMPORT_PAGE_MAX per file, so a request never outlasts its timeout; the command takes more."""
    settings.QMS_HISTORY_IMPORT_PAGE_MAX = 1
    client = login(qm)
    rows = "B0,PN-1,5,S1,released\nB1,PN-1,5,S1,released\n"
    response = _post(client, HEADER + rows + "B9,PN-1,5,S1,\n", "0" * 31 + "4")
    page = response.content.decode()
    assert response.status_code == 200 and "at most 1 per file" in page and "import_data" in page
    assert _nothing_written()
    assert _post(client, HEADER + rows[: rows.index("B1")], "0" * 31 + "5").status_code == 302
    assert LotRelease.objects.count() == 1
    # the command (no request to time out) is not bounded by the page's limit
    more = "".join(f"C{i},PN-1,5,S1,released\n" for i in range(5))
    assert _run(qm, HEADER + more, credential=_sign(qm)).ok and LotRelease.objects.count() == 6


def test_the_import_page_wrong_password_writes_nothing(login, qm, pn, site):
    client = login(qm)
    response = _post(client, HEADER + "X1,PN-1,5,S1,released\n", "0" * 31 + "3", password="wrong")
    assert response.status_code == 200 and "Wrong password" in response.content.decode()
    assert _nothing_written()


def test_the_page_offers_the_history_import_only_to_people_with_release_authority(login, make_user, site):
    admin = make_user("adm2", roles=[Role.ADMINISTRATOR])
    page = login(admin).get(reverse("traceability:lot_import")).content.decode()
    assert 'name="password"' not in page and "only by someone with release authority" in page
    auditor = make_user("aud", roles=[Role.AUDITOR])
    assert login(auditor).get(reverse("traceability:lot_import")).status_code == 403


def test_the_command_signs_with_the_password_from_the_environment(qm, pn, site, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(HEADER + "C1,PN-1,5,S1,released\n")
    with pytest.raises(CommandError, match="--signer"):
        call_command("import_data", "lots", str(path), "--released-as-history")
    with mock.patch.dict(os.environ, {"QMS_SIGNER_PASSWORD": "wrong"}):
        with pytest.raises(CommandError, match="Wrong password"):
            call_command("import_data", "lots", str(path), "--released-as-history", "--signer", "qmh")
    assert _nothing_written()
    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_data", "lots", str(path), "--user", "qmh")  # no history import: refused
    with mock.patch.dict(os.environ, {"QMS_SIGNER_PASSWORD": PASSWORD}):
        call_command("import_data", "lots", str(path), "--released-as-history", "--signer", "qmh")
    release = LotRelease.objects.get(lot__code="C1")
    assert release.history_import and release.released_by == qm
    assert Lot.objects.get(code="C1").status == LotStatus.RELEASED


def test_the_command_asks_for_the_password(qm, pn, site, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(HEADER + "G1,PN-1,5,S1,released\n")
    env = {k: v for k, v in os.environ.items() if k != "QMS_SIGNER_PASSWORD"}
    with mock.patch.dict(os.environ, env, clear=True), mock.patch("getpass.getpass", return_value=PASSWORD):
        call_command("import_data", "lots", str(path), "--released-as-history", "--signer", "qmh")
    assert Lot.objects.get(code="G1").status == LotStatus.RELEASED
