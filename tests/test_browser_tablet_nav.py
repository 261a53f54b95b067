"""Issue 10: on a 10-inch tablet held upright (800 x 1280) the main navigation fits the screen: no entry
runs off to the right, the page has no horizontal scroll. Real Chromium (Debian's /usr/bin/chromium)."""

import os
from pathlib import Path

import pytest

from conftest import PASSWORD
from qms.core.models import Role

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is installed by `make install`")


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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_main_navigation_fits_a_portrait_tablet(live_server, browser, make_user, language):
    # the quality manager sees the most navigation entries
    make_user("tablet_qm", roles=[Role.QUALITY_MANAGER, Role.ADMINISTRATOR], display_name="Li Wei")
    page = browser.new_page(viewport={"width": 800, "height": 1280}, has_touch=True, is_mobile=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "tablet_qm")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    if language != "en":
        page.select_option("#lang-select", language)
        # the choice posts and reloads: wait for the page in the new language (networkidle can come first)
        page.wait_for_function("l => document.documentElement.lang === l", arg=language)
    links = page.locator("nav.mainnav a")
    assert links.count() >= 5
    nav = page.evaluate(
        """() => { const n = document.querySelector("nav.mainnav");
                   return {scroll: n.scrollWidth, client: n.clientWidth,
                           doc: document.documentElement.scrollWidth}; }"""
    )
    assert nav["scroll"] <= nav["client"], nav  # nothing hidden in a sideways scroll
    assert nav["doc"] <= 800, nav  # the page itself does not scroll sideways
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 800, (links.nth(i).inner_text(), box)
        assert box["height"] >= 44  # still a touch target
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"tablet_portrait_nav_{language}.png"))
