"""Issue 9, item 3 in a real browser: the NCR's author opens the NCR awaiting the MRB and finds no sign
button but the note naming who can sign, in English and in Chinese; a quality manager finds the button.

Drives Debian's /usr/bin/chromium (never a downloaded browser); skipped when it is missing."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from conftest import PASSWORD
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


def _login(browser, live_server, user, language):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page


@needs_chromium
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_ncr_author_reads_who_can_sign_instead_of_a_sign_button(live_server, browser, site, make_user, language):
    author = make_user("qe_author", roles=[Role.QUALITY_ENGINEER], display_name="Li Na")
    manager = make_user("qm_signer", roles=[Role.QUALITY_MANAGER], display_name="Wang Fang")
    ncr = f.ncr_in_review(site, author, author, [("scrap", 10, {})])
    url = f"{live_server.url}{reverse('nonconformance:ncr_detail', args=[ncr.code])}"
    sign_url = reverse("nonconformance:mrb_decide", args=[ncr.code])

    context, page = _login(browser, live_server, author, language)
    page.goto(url)
    assert page.locator(f'a[href="{sign_url}"]').count() == 0
    note = page.locator('[data-decision-refused="mrb.sign"]')
    assert note.count() == 1 and "Wang Fang" in note.inner_text()
    assert ("Who can act" in note.inner_text()) == (language == "en")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"decision-offer-ncr-author-{language}.png"), full_page=True)
    context.close()

    context, page = _login(browser, live_server, manager, language)
    page.goto(url)
    assert page.locator(f'a[href="{sign_url}"]').count() == 1
    assert page.locator('[data-decision-refused="mrb.sign"]').count() == 0
    context.close()
