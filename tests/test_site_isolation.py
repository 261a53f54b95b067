"""Each plant sees only its own data (issue 9, item 4).

Walks every URL of the URLconf with the other site's records for a single-site user of every role (and
anonymously), with GET and POST, and expects a refusal, never the other site's data; opens every list
page and checks no record code of the other site shows; runs every registered report with the other
site's parameters. The defects reported in the issue are reproduced one by one below the walk.
"""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from compliance.reports import REPORTS, ReportError, resolve_params
from qms.core import policy
from qms.core.models import Role
from qms.core.scoping import site_scope

from .isolation import NOT_RECORD_ROUTES, QUERIES, ROUTES, leaked, walk_urls, world_fixture

REFUSED = {403, 404, 405}
DIRECTIONS = [("FOOD", "BRG"), ("BRG", "FOOD")]
# Every role walks from FOOD into BRG (the reported incident; the demo has every kind of record at BRG);
# the way back, where FOOD lacks several kinds, a reader, a shop-floor writer and a manager walk.
WALKS = [("FOOD", "BRG", role) for role in [None, *Role.values]] + [
    ("BRG", "FOOD", role) for role in (Role.QUALITY_MANAGER, Role.INSPECTOR, Role.AUDITOR)
]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_fixture(django_db_setup, django_db_blocker)


def _record_urls(other):
    """(url, description) for every URL naming one of `other`'s records; fails on an unknown URL."""
    urls, unknown, uncovered = [], [], []
    for route, name, pattern in walk_urls():
        if not pattern.pattern.converters:
            continue
        if name in NOT_RECORD_ROUTES:
            continue
        if name not in ROUTES:
            unknown.append(f"{name} ({route})")
            continue
        for kind, build in ROUTES[name]:
            obj = other.objects.get(kind)
            if obj is None:
                uncovered.append((name, kind))
                continue
            urls.append((reverse(name, kwargs=build(obj)), f"{name} {kind}"))
    assert unknown == [], f"URLs naming records but missing from tests/isolation.py ROUTES: {unknown}"
    return urls, uncovered


def _in_url(plant, url):
    return {i for i in plant.identifiers if i in url}


def _list_urls():
    urls = []
    for _route, name, pattern in walk_urls():
        if pattern.pattern.converters or name in ("core:logout", "set_language", "portal:scan"):
            continue
        urls.append(reverse(name))
    from qms.core.views import MASTER_DATA

    urls += [reverse("core:master_data_kind", args=[kind]) for kind in MASTER_DATA]
    from monitoring.csvio import KINDS

    urls += [reverse("monitoring:export", args=[kind]) for kind in KINDS]
    return urls


@pytest.mark.django_db
@pytest.mark.parametrize("home,away,role", WALKS)
def test_every_record_url_refuses_the_other_sites_records(world, client, home, away, role):
    other = world[away]
    urls, uncovered = _record_urls(other)
    if role is not None:
        client.force_login(world[home].users[role])
    failures = []
    for url, what in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            status = response.status_code
            if role is None:
                ok = (status == 302 and "/accounts/login/" in response["Location"]) or status == 405
                ok = ok or (status == 401 and url.startswith("/api/v1/"))  # the API answers, it does not redirect
            else:
                ok = status in REFUSED
            if not ok:
                failures.append(f"{method.upper()} {url} [{what}] -> {status}")
            elif status != 302 and response.get("Content-Type", "").startswith("text/html"):
                # The "not found" page may repeat the address asked for, nothing else of the other site.
                shown = leaked(other.identifiers, response.content.decode(), allowed=_in_url(other, url))
                if shown:
                    failures.append(f"{method.upper()} {url} [{what}] refused but shows {shown}")
    assert failures == [], "\n".join(failures)
    # The demo has every kind at BRG (a mock recall is added); FOOD lacks some kinds, walked the other way.
    if away == "BRG":
        # Kinds the demo does not have at BRG yet (a line stop, a recall letter, an NCR attachment).
        # A pack manifest is made by a PDF job, not by the demo seed: its refusal is in packs/tests/test_bundle.py.
        absent = {"line_stop", "recall_letter", "attachment", "objective", "alarm", "pack_manifest"}
        assert {kind for _name, kind in uncovered} <= absent, uncovered


@pytest.mark.django_db
@pytest.mark.parametrize("home,away,role", [w for w in WALKS if w[2] is not None])
def test_list_pages_show_nothing_of_the_other_site(world, client, home, away, role):
    other = world[away]
    client.force_login(world[home].users[role])
    failures = []
    for url in _list_urls():
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"GET {url} -> {response.status_code}")
            continue
        if response.get("Content-Type", "").startswith(("text/", "application/json")):
            body = b"".join(response.streaming_content) if response.streaming else response.content
            shown = leaked(other.identifiers, body.decode(errors="replace"))
            if shown:
                failures.append(f"GET {url} shows {shown[:8]}")
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("home,away", DIRECTIONS)
def test_queries_naming_the_other_sites_records_find_nothing(world, client, home, away):
    other = world[away]
    failures = []
    for role in (Role.QUALITY_MANAGER, Role.SUPPLIER_QUALITY_ENGINEER, Role.INSPECTOR, Role.AUDITOR):
        client.force_login(world[home].users[role])
        for kind, name, build in QUERIES:
            obj = other.objects.get(kind)
            if obj is None:
                continue
            query = build(obj)
            response = client.get(reverse(name), query)
            if response.status_code >= 500:
                failures.append(f"{role} {name} {query} -> {response.status_code}")
            elif response.status_code == 302:
                if leaked(other.identifiers, response["Location"]):
                    failures.append(f"{role} {name} {query} redirects to {response['Location']}")
            else:
                echoed = {str(v) for v in query.values()}
                shown = leaked(other.identifiers, response.content.decode(), allowed=echoed)
                if shown:
                    failures.append(f"{role} {name} {query} shows {shown[:8]}")
    assert failures == [], "\n".join(failures)


# ------------------------------------------------------------------------------------------ reports

REPORT_PARAMS = {
    "audit.record": lambda o: {"model": "nonconformance.ncr", "id": str(o["ncr"].pk)} if o.get("ncr") else None,
    "capa.8d": lambda o: {"capa": o["capa"].code} if o.get("capa") else None,
    "inspection.coa": lambda o: {"lot": o["released_lot"].code},
    "inspection.capability": lambda o: {"characteristic": str(o["characteristic"].pk)},
    "nonconformance.ncr": lambda o: {"ncr": o["ncr"].code} if o.get("ncr") else None,
    "suppliers.scorecard": lambda o: {"supplier": o["supplier"].code} if o.get("supplier") else None,
    "traceability.recall": lambda o: {"recall": o["recall"].code},
    "traceability.trace": lambda o: {"lot": o["lot"].code},
    "traceability.recall_letter": lambda o: {"recall": o["recall"].code},
    "monitoring.review_pack": lambda o: {"site": o["lot"].site.code},
    "packs.lot_bundle": lambda o: {"lot": o["lot"].code},
    "packs.ppap": lambda o: {"ppap": o["ppap"].code} if o.get("ppap") else None,
    "packs.complaint": lambda o: {"complaint": o["complaint"].code} if o.get("complaint") else None,
    "packs.control_plan": lambda o: {"site": o["lot"].site.code},
    "packs.sc_incoming": lambda o: {"site": o["lot"].site.code},
    "packs.sc_production": lambda o: {"site": o["lot"].site.code},
    "packs.sc_outgoing": lambda o: {"site": o["lot"].site.code},
    "packs.retention": lambda o: {"site": o["lot"].site.code},
    "audits.report": lambda o: {"audit": o["audit"].code} if o.get("audit") else None,
    "changes.change": lambda o: {"change": o["change"].code} if o.get("change") else None,
    "batchrecords.disposition": lambda o: {"record": o["ebr"].code} if o.get("ebr") else None,
    "documents.register": lambda o: {"site": o["lot"].site.code},
    "documents.training_matrix": lambda o: {"site": o["lot"].site.code},
}
# Reports whose parameters name no record of a site: their isolation (audit entries by the site of the
# record they describe) is walked in tests/test_site_isolation_compliance.py.
SITELESS_REPORTS = {"audit.trail", "audit.user", "access.log"}


def test_every_registered_report_is_walked():
    assert set(REPORTS) == set(REPORT_PARAMS) | SITELESS_REPORTS


@pytest.mark.django_db
@pytest.mark.parametrize("home,away", DIRECTIONS)
def test_every_report_refuses_the_other_sites_parameters(world, client, home, away):
    """Through the download view (GET, as the reports page links it) for a manager of the home site."""
    other = world[away]
    user = world[home].users[Role.QUALITY_MANAGER]
    client.force_login(user)
    failures = []
    for key, build in REPORT_PARAMS.items():
        params = build(other.objects)
        if params is None:
            continue
        if REPORTS[key].background:
            # Reports that grow with the data are export jobs: the job runs in the user's sites and must not
            # produce a file for another site's record (a refusal at request time is fine too).
            from compliance.models import ExportJob

            response = client.post(reverse("compliance:report_pdf", args=[key]), {**params, "format": "pdf"})
            job = ExportJob.objects.filter(requested_by=user, key=key).order_by("-pk").first()
            if response.status_code >= 500 or (job is not None and (job.status == "ready" or job.file)):
                failures.append(f"{key} {params} -> export {getattr(job, 'status', None)}")
            continue
        response = client.get(reverse("compliance:report_pdf", args=[key]), params)
        if response.status_code not in (400, 403, 404) or response.get("Content-Type") == "application/pdf":
            failures.append(f"{key} {params} -> {response.status_code} {response.get('Content-Type')}")
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize("home,away", DIRECTIONS)
def test_reports_built_for_a_user_never_contain_the_other_site(world, home, away):
    """Every report, with the other site's parameters (refused) and with its defaults ("the latest ..."),
    built for a manager of the home site: no record code of the other site in the rendered body."""
    other = world[away]
    user = world[home].users[Role.QUALITY_MANAGER]
    failures = []
    for key, report in REPORTS.items():
        if key in SITELESS_REPORTS:
            continue
        attempts = [{}]
        params = REPORT_PARAMS[key](other.objects)
        if params is not None:
            attempts.append(params)
        for given in attempts:
            with site_scope(policy.sites_for(user)):
                try:
                    context = report.build(resolve_params(report, given), user)
                except ReportError:
                    continue
                except Exception as exc:  # noqa: BLE001 - any other refusal must read as "not found"
                    if type(exc).__name__ in ("DoesNotExist", "Http404"):
                        continue
                    raise
                body = render_to_string(report.template, {**context, "report": report, "params": given})
            if given:
                failures.append(f"{key} {given}: built for another site's record")
            shown = leaked(other.identifiers, body)
            if shown:
                failures.append(f"{key} {given or 'defaults'} shows {shown[:8]}")
    assert failures == [], "\n".join(failures)
