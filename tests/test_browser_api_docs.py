"""The API docs page renders Swagger UI from the app's own static files (no CDN) under the strict CSP,
and its "try it" reads the live API with the page's session. Debian's /usr/bin/chromium."""

import os

import pytest

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
def test_swagger_ui_renders_the_live_schema_without_csp_violations(live_server, browser, make_user):
    make_user("integrator", roles=[Role.QUALITY_ENGINEER])
    page = browser.new_page()
    problems, requests = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_server.url}/accounts/login/?next=/api/docs/")
    page.fill("#id_username", "integrator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    text = page.inner_text("#swagger-ui")
    assert "/api/v1/measurements/" in text and "/api/v1/lots/{code}/ship-check/" in text
    assert all(u.startswith(live_server.url) for u in requests), [
        u for u in requests if not u.startswith(live_server.url)
    ]
    assert not [p for p in problems if "Content Security Policy" in p], problems
