"""Hostile-input sweep (issue 10): every form and every import kind, fed hostile and careless values
by a user holding every role at every site, answers without a 500 and, when it refuses, writes nothing.

The forms are found, not listed: the demo plants are seeded, every page reachable from the dashboard
is crawled (GET), and every POST form on those pages is submitted with hostile values in its fields.
"""

from __future__ import annotations

import io
import itertools
import re
import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from qms.core.codes import code_problem
from qms.core.models import Membership, Role, Site, User
from qms.core.registries import registry

pytestmark = pytest.mark.django_db

HOSTILE = [
    "A/B<svg onload=alert(1)>",
    "NaN",
    "Infinity",
    "1e999",
    "1" * 40,
    '=HYPERLINK("http://evil.example","x")',
    "x" * 10_000,
    "",
    "2027-11-29T99:99garbage",
    "-1",
    "a\x00b",
    "批次/../../etc/passwd",
]
HTML_AS_PDF = b"<html><script>alert(document.cookie)</script></html>"
DOMAIN_APPS = ("core", "suppliers", "traceability", "inspection", "nonconformance", "capa")
# Counted before and after each refused post: a refusal leaves every one of them unchanged.
SKIP_MODELS = {"core.notification", "core.user", "core.membership"}
CODE_FIELDS = [
    ("traceability.lot", "code"),
    ("traceability.lot", "supplier_lot_code"),
    ("traceability.serial", "serial"),
    ("traceability.workorder", "code"),
    ("suppliers.supplier", "code"),
    ("core.part", "number"),
    ("core.customer", "code"),
    ("core.equipment", "code"),
]
SKIP_PATHS = ("/admin/", "/accounts/logout/", "/static/", "/i18n/", "/media/", "/healthz")
MAX_PAGES = 160
PAGES_PER_ROUTE = 2
FORMS_PER_ROUTE = 1
ROTATIONS = 4


class FormParser(HTMLParser):
    """Links and POST forms of a page (the standard library parser: no dependency)."""

    def __init__(self):
        super().__init__()
        self.links, self.forms, self._form, self._select = [], [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {
                "action": a.get("action") or "",
                "fields": [],
                "multipart": "multipart" in (a.get("enctype") or ""),
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select") and a.get("name"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            field = {"name": a["name"], "type": kind, "value": a.get("value", ""), "options": []}
            self._form["fields"].append(field)
            if tag == "select":
                self._select = field
        elif tag == "option" and self._select is not None and a.get("value"):
            self._select["options"].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _all_roles_user():
    user = User.objects.create(username="hostile", display_name="Hostile Tester", email="h@example.com")
    user.set_password("x-Hostile-2026")
    user.save()
    for site in Site.objects.all():
        for role in Role.values:
            Membership.objects.get_or_create(user=user, site=site, role=role)
    return user


def _counts():
    """Row counts of every domain table, in one query."""
    from django.db import connection

    global _COUNT_SQL, _COUNT_LABELS
    if _COUNT_SQL is None:
        models = [
            m
            for m in apps.get_models()
            if m._meta.app_label in DOMAIN_APPS
            and m._meta.label_lower not in SKIP_MODELS
            and not m._meta.proxy
            and m._meta.managed
        ]
        _COUNT_LABELS = [m._meta.label_lower for m in models]
        q = connection.ops.quote_name
        _COUNT_SQL = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {q(m._meta.db_table)})" for m in models)
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL)
        return dict(zip(_COUNT_LABELS, cursor.fetchone(), strict=True))


_COUNT_SQL = None
_COUNT_LABELS: list = []


def _route(path):
    try:
        return resolve(path).route
    except Resolver404:
        return None


def _crawl(client, failures):
    from django.urls import reverse

    queue = ["/"] + [reverse(item.url_name) for item in registry.nav_items.values()]
    seen, forms, per_route = set(), [], {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or path.startswith(SKIP_PATHS) or "/pdf/" in path:
            continue
        seen.add(url)
        route = _route(path)
        if route is not None:
            # Pages of one route differ only in their record: a few of each are enough.
            per_route[route] = per_route.get(route, 0) + 1
            if per_route[route] > PAGES_PER_ROUTE:
                continue
        try:
            response = client.get(url)
        except Exception as exc:  # noqa: BLE001 - every failure is collected and reported at the end
            failures.append(f"GET {url}: {exc!r}")
            continue
        if response.status_code >= 500:
            failures.append(f"GET {url}: {response.status_code}")
        if "text/html" not in response.get("Content-Type", "") or response.status_code != 200:
            continue
        parser = FormParser()
        parser.feed(response.content.decode("utf-8", "replace"))
        for href in parser.links:
            parts = urlsplit(href)
            if not parts.netloc and parts.path.startswith("/"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        for form in parser.forms:
            form["page"] = path
            form["action"] = urlsplit(form["action"]).path or path
            forms.append(form)
    return forms, len(seen)


def _values(form, offset, keep_choices):
    """Field i gets HOSTILE[(i + offset) % n]: a few posts put every hostile value in every field."""
    data, files = {}, {}
    for i, f in enumerate(form["fields"]):
        hostile = HOSTILE[(i + offset) % len(HOSTILE)]
        name, kind = f["name"], f["type"]
        if name == "csrfmiddlewaretoken":
            continue
        if kind == "file":
            files[name] = SimpleUploadedFile("report.pdf", HTML_AS_PDF, content_type="application/pdf")
        elif kind in ("submit", "button") or (kind == "hidden" and keep_choices):
            if f["value"]:
                data[name] = f["value"]
        elif kind in ("checkbox", "radio"):
            data[name] = (f["value"] or "on") if keep_choices else hostile
        elif kind == "select" and keep_choices and f["options"]:
            data[name] = f["options"][0]
        else:
            data[name] = hostile
    return data | files


def test_hostile_input_sweep(settings):
    """One test, so the demo plants are seeded once (about a minute on a loaded machine)."""
    settings.QMS_IMPORT_MAX_ROWS = 20
    _seed()
    client = Client(raise_request_exception=True)
    client.force_login(_all_roles_user())
    failures = []
    _sweep_imports(client, failures)
    _sweep_forms(client, failures)
    assert not failures, "\n".join(failures)


def _sweep_forms(client, failures):
    started = time.monotonic()
    forms, pages = _crawl(client, failures)
    by_route = {}
    for form in forms:
        route = _route(form["action"])
        key = (route, tuple(sorted(f["name"] for f in form["fields"])))
        by_route.setdefault(key, [])
        if len(by_route[key]) < FORMS_PER_ROUTE:
            by_route[key].append(form)
    targets = list(itertools.chain.from_iterable(by_route.values()))
    if len(targets) < 20:
        failures.append(f"the crawl found only {len(targets)} forms on {pages} pages")
    posts = 0
    for form in targets:
        variants = [(k * len(HOSTILE) // ROTATIONS, True) for k in range(ROTATIONS)] + [(1, False)]
        for offset, keep in variants:
            before = _counts()
            try:
                response = client.post(form["action"], _values(form, offset, keep))
            except Exception as exc:  # noqa: BLE001
                failures.append(f"POST {form['action']} (offset {offset}, choices kept={keep}): {exc!r}")
                continue
            posts += 1
            if response.status_code >= 500:
                failures.append(f"POST {form['action']} (offset {offset}): {response.status_code}")
            elif response.status_code != 302:
                changed = {k: (v, c) for k, v in before.items() if (c := _counts()[k]) != v}
                if changed:
                    failures.append(f"POST {form['action']} refused ({response.status_code}) but wrote {changed}")
    # Whatever was accepted, no stored code left the safe character set, and the lists still open.
    for label, field in CODE_FIELDS:
        model = apps.get_model(label)
        bad = [v for v in model._base_manager.values_list(field, flat=True) if v and code_problem(v)]
        if bad:
            failures.append(f"{label}.{field} stored unsafe codes: {bad[:3]}")
    for url in ("/lots/", "/suppliers/", "/accounts/master-data/parts/", "/ncr/", "/inspection/"):
        if client.get(url).status_code != 200:
            failures.append(f"GET {url} after the sweep: not 200")
    print(f"hostile sweep: {pages} pages, {len(targets)} forms, {posts} posts in {time.monotonic() - started:.0f} s")


def _seed():
    from django.test import override_settings

    with override_settings(QMS_DEMO=True):
        call_command("seed_demo", verbosity=0)


# ----------------------------------------------------------------------------------------- imports


def _xlsx(rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip_bomb_xlsx(columns):
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(_xlsx([columns, ["x"] * len(columns)])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                row = b'<row r="%d"><c t="inlineStr"><is><t>x</t></is></c></row>'
                data = re.sub(rb"</sheetData>", b"".join(row % i for i in range(3, 60_000)) + b"</sheetData>", data)
            z.writestr(info, data)
    return out.getvalue()


def _hostile_files(kind):
    cols = [c.name for c in registry.import_kinds[kind].columns]
    header = ",".join(cols)
    files = {
        "latin1.csv": (header + "\n" + ",".join(["Müller"] * len(cols)) + "\n").encode("latin-1"),
        "rows.csv": (header + "\n" + ("\n".join(",".join(["R-1"] * len(cols)) for _ in range(30)) + "\n")).encode(),
        "dates.csv": (header + "\n" + ",".join(["2027-11-29T99:99garbage"] * len(cols)) + "\n").encode(),
        "formula.csv": (header + "\n" + ",".join(['"=HYPERLINK(""http://x"")"'] * len(cols)) + "\n").encode(),
        "bomb.xlsx": _zip_bomb_xlsx(cols),
        "notzip.xlsx": b"PK\x03\x04 not really",
        "binary.csv": b"\x00\x01\x02" * 100,
        "empty.csv": b"",
        "header-only.csv": header.encode(),
        "wide.csv": (",".join(f"c{i}" for i in range(500)) + "\n" + "1," * 499 + "1\n").encode(),
        "quote.csv": (header + '\n"' + "x" * 200_000 + "\n").encode(),
    }
    for i, value in enumerate(HOSTILE):
        cell = value.replace('"', '""')
        files[f"hostile-{i}.csv"] = (header + "\n" + ",".join([f'"{cell}"'] * len(cols)) + "\n").encode()
    files["hostile.xlsx"] = _xlsx([cols] + [[v.replace("\x00", "")] * len(cols) for v in HOSTILE])
    return files


def _sweep_imports(client, failures):
    started = time.monotonic()
    posts = 0
    for kind in sorted(registry.import_kinds):
        for name, content in _hostile_files(kind).items():
            before = _counts()
            upload = SimpleUploadedFile(name, content)
            try:
                response = client.post("/accounts/import/", {"kind": kind, "file": upload, "dry_run": ""})
            except Exception as exc:  # noqa: BLE001
                failures.append(f"import {kind} {name}: {exc!r}")
                continue
            if response.status_code != 200:
                failures.append(f"import {kind} {name}: {response.status_code}")
                continue
            changed = {k: (v, c) for k, v in before.items() if (c := _counts()[k]) != v}
            if changed:
                failures.append(f"import {kind} {name} was written: {changed}")
            elif content and "Nothing was imported" not in response.content.decode():
                failures.append(f"import {kind} {name}: no refusal message")
            posts += 1
    print(f"hostile import sweep: {posts} files in {time.monotonic() - started:.0f} s")
