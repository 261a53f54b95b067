"""A quality manager in the browser: the document register, a controlled document's page, the version in
force on a date, in English and Chinese. Real Chromium (Debian's /usr/bin/chromium)."""

import datetime
import os

import pytest
from django.utils import timezone

from conftest import PASSWORD
from qms.core.models import Role

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is installed by `make install`")


@pytest.fixture
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.mark.django_db(transaction=True)
def test_quality_manager_finds_the_version_in_force_in_both_languages(live_server, browser, site, make_user):
    from documents.tests import factories as f

    people = {
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Li QM"),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Anna QE"),
        "sup": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR], display_name="Wang Sup"),
    }
    doc = f.document(site, people, title="Lot release")
    f.effective(doc, people, at=timezone.now() - datetime.timedelta(days=60))
    f.effective(doc, people, at=timezone.now() - datetime.timedelta(days=5))
    errors = []
    page = browser.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "qm")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/documents/")
    page.click(f"text={doc.number}")
    assert "Version in force" in page.inner_text("main")
    day = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    page.fill("#id_on", day)
    page.click("#on-date button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-in-force='1']").count() == 1
    assert "Li QM" in page.inner_text("#on-date")
    page.select_option("#lang-select", "zh-hans")
    # the choice posts and reloads: wait for the page in the new language (networkidle can come first)
    page.wait_for_function("l => document.documentElement.lang === l", arg="zh-hans")
    assert "现行版本" in page.inner_text("main")
    assert errors == []
