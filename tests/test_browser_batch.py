"""Issue 14: the batch record step entry on a 10-inch tablet: values turn red or green as they are typed,
the step is recorded and signed through htmx (the step card is swapped in place), an out-of-limit value shows
its deviation. Real Chromium (Debian's /usr/bin/chromium)."""

import os
from pathlib import Path

import pytest

from conftest import PASSWORD
from qms.core.audit import audit_context
from qms.core.models import Industry, Role, Site

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"

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
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_step_entry_on_a_tablet(live_server, browser, make_user, language):
    from batchrecords.models import Deviation, StepStatus
    from batchrecords.tests import factories as f

    with audit_context(reason="test"):
        plant = Site.objects.create(code="TAB", name="Tablet plant", industry=Industry.PHARMA)
    cast = {
        "op": make_user("op_tab", roles=[Role.PRODUCTION_SUPERVISOR], sites=[plant], preferred_language=language),
        "qe": make_user("qe_tab", roles=[Role.QUALITY_ENGINEER], sites=[plant]),
        "qm": make_user("qm_tab", roles=[Role.QUALITY_MANAGER], sites=[plant]),
    }
    record = f.ebr(plant, cast)
    ids = f.param_ids(record)
    step = f.steps(record)[0]
    page = browser.new_page(viewport={"width": 800, "height": 1280}, has_touch=True, is_mobile=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "op_tab")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    if language != "en":
        page.select_option("#lang-select", language)
        # the choice posts and reloads: wait for the page in the new language (networkidle can come first)
        page.wait_for_function("l => document.documentElement.lang === l", arg=language)
    page.goto(f"{live_server.url}/batch/records/{record.code}/")
    card = page.locator(f"#step-{step.pk}")
    temp = card.locator(f"#id_value_{ids['Inlet temperature']}")
    temp.fill("75")
    assert "is-bad" in temp.get_attribute("class")
    card.locator(f"#id_value_{ids['Moisture']}").fill("1.2")
    assert "is-ok" in card.locator(f"#id_value_{ids['Moisture']}").get_attribute("class")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800  # no sideways scroll on the tablet
    box = card.locator("button[type=submit]").bounding_box()
    assert box["height"] >= 44
    if card.locator("#id_username").count():
        card.locator("#id_username").fill("op_tab")
    card.locator("#id_password").fill(PASSWORD)
    card.locator("button[type=submit]").click()
    page.wait_for_selector(f"#step-{step.pk} .pill-bad")
    dev = Deviation.objects.get(ebr=record)
    assert dev.code in page.locator(f"#step-{step.pk}").inner_text()
    step.refresh_from_db()
    assert step.status == StepStatus.DONE
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"batch_step_{language}.png"), full_page=True)
