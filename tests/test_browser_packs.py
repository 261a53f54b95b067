"""The compliance packs page in a real browser (Debian's Chromium), as a quality engineer at an automotive
plant uses it, in Chinese: generate the AIAG control plan from the approved inspection plan, open it, then
ask for everything about a lot and queue its bundle. On a 10-inch tablet: no sideways scrolling."""

import os

import pytest

from conftest import PASSWORD
from inspection.models import Stage
from inspection.tests import factories as insp_f
from packs.models import ControlPlan
from packs.tests.factories import part as make_part
from qms.core.models import Role

from .test_browser_monitor import CHROMIUM, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is installed by `make install`")


@pytest.fixture
def plant(make_user, site):
    qm = make_user("bp_qm", roles=[Role.QUALITY_MANAGER])
    qe = make_user("bp_qe", roles=[Role.QUALITY_ENGINEER, Role.QUALITY_MANAGER], display_name="Li Na")
    other_qe = make_user("bp_qe2", roles=[Role.QUALITY_ENGINEER])
    bearing = make_part("PKB-6204", name="Ball bearing 深沟球轴承")
    insp_f.plan(
        site, bearing, other_qe, qm, Stage.FQC,
        chars=[{"name": "Bore diameter 内径", "nominal": "20", "tolerance": "0.01", "unit": "mm", "decimals": 3,
                "special": "CC", "method": "Air gauge"}],
        operation_name="Final inspection",
    )  # fmt: skip
    lot = insp_f.lot(site, bearing, 100, code="PKB-LOT-1")
    return {"qe": qe, "lot": lot}


@pytest.mark.django_db(transaction=True)
def test_control_plan_and_lot_bundle_from_the_packs_page(live_server, browser, plant, site):  # noqa: F811
    page = browser.new_page(viewport={"width": 800, "height": 1280}, has_touch=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "bp_qe")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.select_option("#lang-select", "zh-hans")
    # the choice posts and reloads: wait for the page in the new language (networkidle can come first)
    page.wait_for_function("l => document.documentElement.lang === l", arg="zh-hans")
    page.goto(f"{live_server.url}/packs/?site={site.code}")
    assert page.locator("h1").inner_text().startswith("合规报告包")
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
    # generate the control plan for the bearing and land on it
    page.select_option("select[name=part]", index=1)
    page.click("form[action='/packs/control-plans/generate/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/packs/control-plans/*/")
    assert "Bore diameter 内径" in page.content()
    assert ControlPlan.objects.filter(part__number="PKB-6204", version=1).count() == 1
    # everything about a lot: what the bundle will hold, then queue it
    page.goto(f"{live_server.url}/packs/?site={site.code}")
    page.fill("#bundle-lot", "PKB-LOT-1")
    page.click("form[action='/packs/lot/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/packs/lot/?lot=PKB-LOT-1")
    assert "PKB-LOT-1" in page.content()
    page.locator("form[method=post] button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/compliance/exports/*/")
    assert "PKB-LOT-1" in page.content()  # the export job names its lot
