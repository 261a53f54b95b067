"""Everything about lot X: contents (pypdf text extraction), bookmarks, manifest hashes, storage, the job
with progress, who may download it, and hostile or foreign lot codes."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from pypdf import PdfReader

from compliance.exports import export_job_run_now
from compliance.models import ExportJob, ExportStatus, GeneratedReport
from packs.assemble import manifest_sha, verify_pack
from packs.bundle import make_lot_bundle
from packs.models import PackManifest
from qms.core.models import Role
from qms.core.scoping import site_scope

from .factories import lot_world


@pytest.fixture
def people(make_user, site, other_site):
    return {
        "qm": make_user("pk_qm", roles=[Role.QUALITY_MANAGER]),
        "qe": make_user("pk_qe", roles=[Role.QUALITY_ENGINEER]),
        "auditor": make_user("pk_auditor", roles=[Role.AUDITOR]),
        "inspector": make_user("pk_insp", roles=[Role.INSPECTOR]),
        "other_qm": make_user("pk_oqm", roles=[Role.QUALITY_MANAGER], sites=[other_site]),
        "other_auditor": make_user("pk_oaud", roles=[Role.AUDITOR], sites=[other_site]),
        "other_qe": make_user("pk_oqe", roles=[Role.QUALITY_ENGINEER], sites=[other_site]),
    }


@pytest.fixture
def world_lot(site, people):
    return lot_world(site, people["qe"], people["qm"], ancestors=3, inspections=5, samples=2)


def _text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.django_db
def test_bundle_holds_every_section_with_bookmarks_and_a_manifest_that_verifies(site, people, world_lot):
    with site_scope([site.pk]):
        stored, row = make_lot_bundle(lot=world_lot, user=people["qm"])
    data = stored.file.open("rb").read()
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    reader, text = _text(data)
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    assert titles == [
        "Summary",
        "Trace both ways",
        "Inspections and values",
        "NCRs and dispositions",
        "Releases, rejections and holds",
        "Batch records and deviations",
        "Certificate of Analysis",
        "Audit trail of every record involved",
        "Manifest",
    ]
    code = world_lot.code
    n = code.split("-")[1]
    for expected in [
        code,
        f"PKRM-{n}-0",  # ancestors in the trace
        f"PKRM-{n}-2",
        f"PKI-{n}-0000",  # every inspection with its values
        f"PKI-{n}-0004",
        "Bore",
        "10.001",
        f"PKRN-{n}",  # the release
        "Acme Foods",  # the shipment
        "Certificate of Analysis",
        "created",  # the audit trail
    ]:
        assert expected in text, expected
    ncr = world_lot.site.ncrs.get()
    assert ncr.code in text
    # The manifest: stored, hashed, embedded, and printed.
    assert row.kind == "lot_bundle" and row.subject == code and row.site_id == site.pk
    assert manifest_sha(row.manifest) == row.manifest_sha256
    assert [s["section"] for s in row.manifest["sections"]][:3] == ["summary", "trace", "inspections"]
    embedded = json.loads(reader.attachments["manifest.json"][0])
    assert embedded == {"manifest": row.manifest, "manifest_sha256": row.manifest_sha256}
    assert row.manifest_sha256 in text.replace("\n", "")
    assert verify_pack(row).ok, verify_pack(row).problems


@pytest.mark.django_db
def test_a_changed_file_fails_verification(site, people, world_lot):
    with site_scope([site.pk]):
        stored, row = make_lot_bundle(lot=world_lot, user=people["qm"])
    # Replace the file behind the row's back (the table itself refuses updates).
    storage = stored.file.storage
    storage.delete(stored.file.name)
    storage.save(stored.file.name, ContentFile(b"%PDF-1.4 forged"))
    result = verify_pack(PackManifest.objects.get(pk=row.pk))
    assert not result.ok and any("SHA-256" in str(p) for p in result.problems)


@pytest.mark.django_db
def test_lot_page_offers_the_bundle_and_the_job_makes_it_with_progress(client, site, people, world_lot):
    client.force_login(people["qm"])
    page = client.get(reverse("traceability:lot", args=[world_lot.code]))
    assert reverse("packs:lot_bundle") in page.content.decode()
    response = client.get(reverse("packs:lot_bundle"), {"lot": world_lot.code})
    assert response.status_code == 200 and world_lot.code in response.content.decode()
    response = client.post(reverse("packs:lot_bundle"), {"lot": world_lot.code, "lang": "zh-hans"})
    job = ExportJob.objects.get(key="packs.lot_bundle")
    assert response.status_code == 302 and response["Location"] == reverse("compliance:export_detail", args=[job.pk])
    job = export_job_run_now(job_id=job.pk)
    assert job.status == ExportStatus.READY, job.message
    assert job.site_id == site.pk and job.progress == 100 and job.generated_report_id
    stored = GeneratedReport.objects.get(pk=job.generated_report_id)
    assert stored.sha256 == job.sha256 and stored.language == "zh-hans" and stored.site_id == site.pk
    _reader, text = _text(stored.file.open("rb").read())
    assert "检验" in text  # Chinese section titles
    # The requester and an auditor of the lot's site download it; the other site's people are refused.
    for who in ("qm", "auditor"):
        client.force_login(people[who])
        got = client.get(reverse("compliance:export_download", args=[job.pk]))
        assert got.status_code == 200, who
        assert hashlib.sha256(b"".join(got.streaming_content)).hexdigest() == stored.sha256
        assert client.get(reverse("compliance:generated_download", args=[stored.pk])).status_code == 200
        row = PackManifest.objects.get(generated_report=stored)
        assert client.get(reverse("packs:manifest", args=[row.pk]), {"verify": 1}).status_code == 200
    for who in ("other_qm", "other_auditor"):
        client.force_login(people[who])
        assert client.get(reverse("compliance:export_download", args=[job.pk])).status_code in (403, 404), who
        assert client.get(reverse("compliance:generated_download", args=[stored.pk])).status_code in (403, 404)
        assert client.get(reverse("packs:manifest", args=[row.pk])).status_code == 404


@pytest.mark.django_db
def test_people_without_the_right_are_not_offered_the_bundle(client, people, world_lot):
    client.force_login(people["inspector"])
    page = client.get(reverse("traceability:lot", args=[world_lot.code]))
    assert reverse("packs:lot_bundle") not in page.content.decode()
    assert client.get(reverse("packs:lot_bundle"), {"lot": world_lot.code}).status_code == 403
    assert client.post(reverse("packs:lot_bundle"), {"lot": world_lot.code}).status_code == 403
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code",
    [
        "<script>alert(1)</script>",
        "x" * 500,
        "LOT'; DROP TABLE traceability_lot;--",
        "../../etc/passwd",
        "\x00",
        "NO-SUCH-LOT",
    ],
)
def test_hostile_lot_codes_get_a_clear_message_and_nothing_is_queued(client, people, code):
    client.force_login(people["qm"])
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("packs:lot_bundle"), {"lot": code})
        assert response.status_code == 400, (method, code)
        body = response.content.decode()
        assert "form-errors" in body
        assert "<script>alert(1)" not in body
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_the_other_sites_lot_reads_as_not_found(client, other_site, people):
    foreign = lot_world(other_site, people["other_qe"], people["other_qm"], ancestors=1, inspections=1, ncr=False)
    client.force_login(people["qm"])
    response = client.post(reverse("packs:lot_bundle"), {"lot": foreign.code})
    assert response.status_code == 400 and "No lot has the code" in response.content.decode()
    assert not ExportJob.objects.exists()
    # A job queued by other means (e.g. a stale request) fails without a file.
    job = ExportJob.objects.create(
        key="packs.lot_bundle", params={"lot": foreign.code}, format="pdf", language="en", requested_by=people["qm"]
    )
    job = export_job_run_now(job_id=job.pk)
    assert job.status == ExportStatus.FAILED and not job.file and not PackManifest.objects.exists()


@pytest.mark.django_db
def test_command_line_bundle(site, people, world_lot, tmp_path, capsys):
    from django.core.management import call_command

    out = tmp_path / "bundle.pdf"
    call_command("lot_bundle", world_lot.code, "--out", str(out), "--user", people["auditor"].username)
    printed = capsys.readouterr().out
    stored = GeneratedReport.objects.get(key="packs.lot_bundle")
    assert stored.document_number in printed and stored.sha256 in printed
    assert hashlib.sha256(out.read_bytes()).hexdigest() == stored.sha256
    call_command("verify_pack", stored.document_number)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("lot_bundle", "<bad>")
