import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from qms.core.models import Part


def write(tmp_path, text, name="parts.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.django_db
def test_good_file_imports_all_rows(tmp_path, capsys):
    path = write(tmp_path, "number,name,type,unit\nA-1,Ring,component,pcs\nA-2,Steel,原材料,kg\n")
    call_command("import_data", "parts", path)
    assert set(Part.objects.values_list("number", "part_type")) == {("A-1", "component"), ("A-2", "raw")}


@pytest.mark.django_db
def test_bad_rows_are_all_reported_and_nothing_is_written(tmp_path, capsys):
    path = write(
        tmp_path,
        "number,name,type,unit\nA-1,Ring,component,pcs\nA-2,,component,pcs\nA-3,Ball,sphere,pcs\nA-1,Dup,raw,kg\n",
    )
    with pytest.raises(CommandError, match="3 bad row"):
        call_command("import_data", "parts", path)
    err = capsys.readouterr().err
    assert "parts.csv:3:" in err and "name" in err
    assert "parts.csv:4:" in err and "sphere" in err
    assert "parts.csv:5:" in err
    assert Part.objects.count() == 0


@pytest.mark.django_db
def test_dry_run_writes_nothing(tmp_path):
    path = write(tmp_path, "number,name,type,unit\nA-1,Ring,component,pcs\n")
    call_command("import_data", "parts", path, "--dry-run")
    assert Part.objects.count() == 0


@pytest.mark.django_db
def test_missing_column_is_named(tmp_path, capsys):
    path = write(tmp_path, "number,name,unit\nA-1,Ring,pcs\n")
    with pytest.raises(CommandError):
        call_command("import_data", "parts", path)
    assert "type" in capsys.readouterr().err


@pytest.mark.django_db
def test_xlsx_import(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["code", "name", "kind", "site", "calibration_due"])
    from qms.core.audit import audit_context
    from qms.core.models import Equipment, Site

    with audit_context(reason="t"):
        Site.objects.create(code="S9", name="Plant", industry="general")
    ws.append(["G-1", "Caliper", "gauge", "S9", "2030-01-31"])
    path = tmp_path / "eq.xlsx"
    wb.save(path)
    call_command("import_data", "equipment", str(path))
    assert str(Equipment.objects.get(code="G-1").calibration_due) == "2030-01-31"


@pytest.mark.django_db
def test_browser_import_page_reports_bad_rows(client, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(make_user("qm"))
    upload = SimpleUploadedFile("p.csv", b"number,name,type,unit\nX,,raw,kg\n", content_type="text/csv")
    response = client.post("/accounts/import/", {"kind": "parts", "file": upload})
    assert response.status_code == 200
    assert "Nothing was imported" in response.content.decode()
    assert Part.objects.count() == 0
