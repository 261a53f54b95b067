"""MRB signing in a real browser, the defect Pareto chart, and cancelling a complaint with an e-signature.

The browser tests drive Debian's /usr/bin/chromium (never a browser downloaded by Playwright) and are skipped
when it is missing; the page-level checks of the same screens run with Django's test client everywhere."""

import datetime
import os
import re
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from compliance.models import Signature
from conftest import PASSWORD
from nonconformance import services
from nonconformance.models import ComplaintStatus, DispositionStatus, NcrStatus
from nonconformance.tests import factories as f
from qms.core.models import Role

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian chromium is installed by `make install`"
)


@pytest.fixture
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs beside the live server's ORM calls
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.fixture
def cast(make_user):
    """The author of the NCR (who proposes the disposition) and the people who may or may not sign it."""
    return {
        "author": make_user("qm_author", roles=[Role.QUALITY_MANAGER], display_name="Li Na"),
        "quality": make_user("qe_signer", roles=[Role.QUALITY_ENGINEER], display_name="Wang Fang"),
        "production": make_user("prod_signer", roles=[Role.PRODUCTION_SUPERVISOR], display_name="Chen Gang"),
        "inspector": make_user("inspector_x", roles=[Role.INSPECTOR], display_name="Zhao Lei"),
    }


def _desktop_login(browser, live_server, user, errors):
    """A fresh desktop session signed in through the login page."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def _sign_in_browser(page, live_server, ncr, *, username):
    """Open the NCR, follow its sign button, approve for the only role offered, sign with the password."""
    page.goto(f"{live_server.url}{reverse('nonconformance:ncr_detail', args=[ncr.code])}")
    page.get_by_role("link", name="Sign the MRB decision").click()
    page.wait_for_url(f"**{reverse('nonconformance:mrb_decide', args=[ncr.code])}")
    page.check("input[name=vote][value=approve]")
    page.fill("#id_reason", "Scrap agreed: bore cannot be reworked")
    if username is not None:  # the first signature of a session asks for the username too
        page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_url(f"**{reverse('nonconformance:ncr_detail', args=[ncr.code])}")
    assert "Your MRB decision is signed." in page.inner_text("main")


@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_scrap_disposition_takes_effect_only_after_the_last_mrb_signature(live_server, browser, site, cast):
    ncr = f.ncr_in_review(site, cast["author"], cast["author"], [("scrap", 10, {})])
    disposition = ncr.mrb
    assert disposition.required_roles == ["quality", "production"]
    errors: list[str] = []

    # The inspector holds no MRB role: no sign button on the NCR, and the signing page answers 403.
    context, page = _desktop_login(browser, live_server, cast["inspector"], errors)
    page.goto(f"{live_server.url}{reverse('nonconformance:ncr_detail', args=[ncr.code])}")
    assert ncr.code in page.inner_text("h1")
    assert page.get_by_role("link", name="Sign the MRB decision").count() == 0
    response = page.goto(f"{live_server.url}{reverse('nonconformance:mrb_decide', args=[ncr.code])}")
    assert response.status == 403
    context.close()
    assert [e for e in errors if "403" not in e] == [], errors  # the refused page is the only failure
    errors.clear()

    # First reviewer (quality): the first signature of the session needs the username as well.
    context, page = _desktop_login(browser, live_server, cast["quality"], errors)
    page.goto(f"{live_server.url}{reverse('nonconformance:mrb_decide', args=[ncr.code])}")
    page.fill("#id_password", "not-my-password")
    page.fill("#id_username", cast["quality"].username)
    page.check("input[name=vote][value=approve]")
    page.get_by_role("button", name="Sign", exact=True).click()
    assert "Wrong password" in page.inner_text("main")
    _sign_in_browser(page, live_server, ncr, username=cast["quality"].username)
    context.close()

    disposition.refresh_from_db()
    ncr.refresh_from_db()
    assert disposition.status == DispositionStatus.IN_REVIEW  # one signature of two: nothing happens yet
    assert ncr.status == NcrStatus.MRB_REVIEW
    assert [d.mrb_role for d in disposition.decisions.all()] == ["quality"]

    # Second and last reviewer (production): the disposition takes effect.
    context, page = _desktop_login(browser, live_server, cast["production"], errors)
    _sign_in_browser(page, live_server, ncr, username=cast["production"].username)
    main = page.inner_text("main")
    assert "Approved" in main and "Wang Fang" in main and "Chen Gang" in main
    assert "Required MRB roles: Quality, Production" in main
    assert page.get_by_role("link", name="Sign the MRB decision").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mrb_signed.png"), full_page=True)
    context.close()

    disposition.refresh_from_db()
    ncr.refresh_from_db()
    assert disposition.status == DispositionStatus.APPROVED
    assert ncr.status == NcrStatus.DISPOSITIONED
    signatures = Signature.objects.filter(model="nonconformance.mrbdecision").order_by("signed_at")
    assert [(s.signer.username, s.role, s.meaning) for s in signatures] == [
        ("qe_signer", "quality", "approved"),
        ("prod_signer", "production", "approved"),
    ]
    assert errors == [], errors  # no CSP violation or script error on the way


# --- defect Pareto ---------------------------------------------------------------------------------


def _coded_ncrs(site, user, spec):
    """spec: [(date, category, how many)]: NCRs opened on that day with a defect code of that category."""
    codes = {}
    for day, category, n in spec:
        if category not in codes:
            codes[category] = services.defect_code_create(
                code=f"D-{category[:4]}", name=category.title(), category=category, user=user
            )
        with time_machine.travel(datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC), tick=False):
            for _ in range(n):
                f.open_ncr(site, user, defect_codes=[codes[category]])


@pytest.mark.django_db
def test_pareto_page_sorts_categories_for_the_chosen_dates(site, other_site, make_user, login):
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    today = timezone.localdate()
    in_range, before = today - datetime.timedelta(days=20), today - datetime.timedelta(days=200)
    _coded_ncrs(site, qm, [(in_range, "visual", 1), (in_range, "dimensional", 3), (before, "visual", 5)])
    other_qm = make_user("qm2", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    _coded_ncrs(other_site, other_qm, [(in_range, "material", 4)])  # another site: not this user's Pareto

    url = reverse("nonconformance:defect_pareto")
    client = login(qm)
    start = today - datetime.timedelta(days=30)
    response = client.get(url, {"start": start.isoformat(), "end": today.isoformat()})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r["category"], r["count"], r["cumulative_pct"]) for r in rows] == [
        ("Dimensional", 3, 75.0),
        ("Visual / cosmetic", 1, 100.0),
    ]
    body = response.content.decode()
    # The chart reads its data from json_script; the vendor Chart.js and the app's script load from static.
    assert '<script id="pareto-data" type="application/json">' in body
    assert '"labels": ["Dimensional", "Visual / cosmetic"]' in body and '"cumulative": [75.0, 100.0]' in body
    assert "/static/vendor/chart.umd.js" in body and "/static/nonconformance/pareto-chart.js" in body
    assert not re.search(r"<script(?![^>]*(src=|application/json))", body), "inline script"
    assert ' style="' not in body
    assert "<table" in body and "Dimensional" in body  # the table stays as the accessible fallback

    # The whole year includes the older visual NCRs, which now lead.
    rows = client.get(url).context["rows"]
    assert [(r["category"], r["count"]) for r in rows] == [("Visual / cosmetic", 6), ("Dimensional", 3)]

    # A range that ends before the recent NCRs.
    end = today - datetime.timedelta(days=100)
    rows = client.get(url, {"start": (today - datetime.timedelta(days=365)).isoformat(), "end": end}).context["rows"]
    assert [(r["category"], r["count"], r["cumulative_pct"]) for r in rows] == [("Visual / cosmetic", 5, 100.0)]

    # Dates the wrong way round: the form says so, the default year is shown.
    response = client.get(url, {"start": today.isoformat(), "end": start.isoformat()})
    assert "The start date is after the end date" in response.content.decode()
    assert len(response.context["rows"]) == 2

    # The NCR list links to the chart.
    assert url in client.get(reverse("nonconformance:ncr_list")).content.decode()


@pytest.mark.django_db
def test_pareto_page_without_defects_and_for_every_reader(site, make_user, login):
    url = reverse("nonconformance:defect_pareto")
    response = login(make_user("aud", roles=[Role.AUDITOR])).get(url)
    assert response.status_code == 200
    assert "No coded defects in this period." in response.content.decode()
    assert 'id="pareto-data"' not in response.content.decode()


@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_pareto_chart_draws_in_the_browser(live_server, browser, site, make_user):
    qm = make_user("qm_chart", roles=[Role.QUALITY_MANAGER])
    day = timezone.localdate() - datetime.timedelta(days=3)
    _coded_ncrs(site, qm, [(day, "dimensional", 4), (day, "visual", 2), (day, "packaging", 1)])
    errors: list[str] = []
    context, page = _desktop_login(browser, live_server, qm, errors)
    page.goto(f"{live_server.url}{reverse('nonconformance:ncr_list')}")
    page.get_by_role("link", name="Pareto chart and date range").click()
    page.wait_for_selector("#pareto-chart[data-drawn=true]")
    box = page.locator("#pareto-chart").bounding_box()
    assert box["width"] > 300 and box["height"] > 200
    assert page.locator("#pareto-table tbody tr").count() == 3
    assert page.locator("input[type=date]").first.bounding_box()["height"] >= 44
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "defect_pareto.png"), full_page=True)
    context.close()
    assert errors == [], errors


# --- complaint cancel ------------------------------------------------------------------------------


def _complaint(site, user):
    return services.complaint_create(
        site=site, customer=f.customer(), part=f.part(), title="Wrong customer", description="Sent to us by mistake",
        response_due_on=timezone.localdate() + datetime.timedelta(days=5), user=user,
    )  # fmt: skip


@pytest.mark.django_db
def test_complaint_cancel_needs_a_reason_and_the_signers_password(site, make_user, login):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Wang Fang")
    complaint = _complaint(site, qe)
    url = reverse("nonconformance:complaint_cancel", args=[complaint.code])
    client = login(qe)
    detail = client.get(reverse("nonconformance:complaint_detail", args=[complaint.code])).content.decode()
    assert url in detail  # the cancel button on the complaint

    page = client.get(url).content.decode()
    for name in ("username", "password", "reason"):
        assert f'name="{name}"' in page, name

    client.post(url, {"username": "qe", "password": "wrong", "reason": "duplicate"})
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OPEN

    response = client.post(url, {"username": "qe", "password": PASSWORD, "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OPEN


@pytest.mark.django_db
def test_complaint_cancel_is_signed_and_recorded(site, make_user, login):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Wang Fang")
    complaint = _complaint(site, qe)
    url = reverse("nonconformance:complaint_cancel", args=[complaint.code])
    client = login(qe)
    response = client.post(url, {"username": "qe", "password": PASSWORD, "reason": "Duplicate of an earlier complaint"})
    assert response.status_code == 302 and response["Location"].endswith(complaint.code + "/")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CANCELLED
    assert complaint.cancel_reason == "Duplicate of an earlier complaint"
    sig = Signature.objects.get(model="nonconformance.complaint", object_id=str(complaint.pk))
    assert (sig.signer, sig.meaning, sig.reason) == (qe, "rejected", "Duplicate of an earlier complaint")

    detail = client.get(reverse("nonconformance:complaint_detail", args=[complaint.code])).content.decode()
    assert "Duplicate of an earlier complaint" in detail and "Wang Fang" in detail
    assert url not in detail  # no cancel button any more
    response = client.get(url, follow=True)
    assert "Only an open complaint can be cancelled." in response.content.decode()
    assert Signature.objects.filter(model="nonconformance.complaint").count() == 1


@pytest.mark.django_db
def test_complaint_cancel_is_refused_without_the_permission(site, other_site, make_user, login, client):
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    complaint = _complaint(site, qm)
    url = reverse("nonconformance:complaint_cancel", args=[complaint.code])
    for username, role, sites in (
        ("insp", Role.INSPECTOR, None),
        ("aud", Role.AUDITOR, None),
        ("far_qe", Role.QUALITY_ENGINEER, [other_site]),  # may manage complaints, but not at this site
    ):
        client.force_login(make_user(username, roles=[role], sites=sites))
        # 404 for the user of another site: the complaint is outside their site scope.
        assert client.get(url).status_code in (403, 404), username
        assert client.post(url, {"password": PASSWORD, "username": username, "reason": "x"}).status_code in (403, 404)
        assert url not in client.get(reverse("nonconformance:complaint_detail", args=[complaint.code])).content.decode()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OPEN


@pytest.mark.django_db
def test_complaint_cancel_page_in_chinese(site, make_user, login):
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    complaint = _complaint(site, qm)
    client = login(qm)
    client.cookies["django_language"] = "zh-hans"
    body = client.get(reverse("nonconformance:complaint_cancel", args=[complaint.code])).content.decode()
    assert "取消投诉" in body and "电子签名" in body
    body = client.get(reverse("nonconformance:defect_pareto")).content.decode()
    assert "缺陷柏拉图" in body
