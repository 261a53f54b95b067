"""The inspector on a 10-inch tablet: signs in, uses the scan box, sees the shell. Real Chromium
(Debian's /usr/bin/chromium), never a browser downloaded by Playwright."""

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
def test_inspector_on_tablet_signs_in_and_scans(live_server, browser, make_user):
    make_user("tablet_inspector", roles=[Role.INSPECTOR], display_name="Zhang Min")
    page = browser.new_page(viewport={"width": 800, "height": 1280}, has_touch=True, is_mobile=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "tablet_inspector")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "Zhang Min" in page.inner_text("body")

    # A keyboard-wedge scanner types the code and Enter into the focused scan box.
    page.click("#scan-input")
    page.keyboard.type("NO-SUCH-LOT-42")
    page.keyboard.press("Enter")
    page.wait_for_url("**/scan/?q=NO-SUCH-LOT-42")
    assert "NO-SUCH-LOT-42" in page.inner_text("main")

    # Touch targets are at least 44 px high.
    box = page.locator("#scan-input").bounding_box()
    assert box["height"] >= 44

    # The language switcher turns the shell Chinese.
    page.select_option("#lang-select", "zh-hans")
    # the choice posts and reloads: wait for the page in the new language (networkidle can come first)
    page.wait_for_function("l => document.documentElement.lang === l", arg="zh-hans")
    assert "收件箱" in page.inner_text("header")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tablet_shell.png"), full_page=True)
    # No CSP violations or script errors on the way.
    page.close()
