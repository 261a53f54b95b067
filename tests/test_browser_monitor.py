"""Issue 11: the management view (quality monitor) on a phone (390 x 844) and a portrait tablet (800 x 1280),
in English and Chinese: no sideways scrolling, the objectives' traffic lights and the trend charts visible,
the navigation on screen and usable. Real Chromium (Debian's /usr/bin/chromium)."""

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone

from conftest import PASSWORD
from qms.core.models import Role

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is installed by `make install`")

VIEWPORTS = {"phone": (390, 844), "tablet": (800, 1280)}


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
def monitor_data(make_user, site):
    """A plant with a year of incoming and patrol inspections, objectives (one on track, one off track), an
    open alarm, and a long objective title and line code (the widths that break phone layouts)."""
    from inspection.models import Stage
    from monitoring import engine, services
    from monitoring.tests import factories as f

    qm = make_user("mon_qm", roles=[Role.QUALITY_MANAGER, Role.ADMINISTRATOR], display_name="Wang Fang")
    qe = make_user("mon_qe", roles=[Role.QUALITY_ENGINEER])
    sup = make_user("mon_sup", roles=[Role.PRODUCTION_SUPERVISOR])
    iqc = f.plan(site, qe, qm, Stage.IQC)
    ipqc = f.plan(site, qe, qm, Stage.IPQC, number="RG-2")
    sched = f.schedule(site, ipqc, f.line(site, "LINE-GRINDING-OUTER-RING-07"))
    for back in range(0, 330, 15):
        when = timezone.now() - datetime.timedelta(days=back)
        f.inspection(iqc, when=when, sample=125, bad=back % 4, accepted=back % 4 < 2)
        f.inspection(ipqc, when=when, sample=5, bad=back % 2, schedule=sched, accepted=back % 2 == 0)
    engine.rollup_recent(days=340, sites=[site])
    year = timezone.localdate().year
    services.objective_create(site=site, title="Incoming ppm ≤ 50000 来料不良", kpi="iqc.ppm", comparator="<=",
                              target=50000, year=year, owner=sup, user=qm)  # fmt: skip
    services.objective_create(
        site=site, title="IPQC pass rate on the outer ring grinding line ≥ 99.5 % 外圈磨削线巡检合格率", kpi="ipqc.fpy",
        comparator=">=", target=99.5, year=year, owner=sup, user=qm, dim_key="line",
        dim_value="LINE-GRINDING-OUTER-RING-07",
    )  # fmt: skip
    rule = services.alarm_rule_create(site=site, user=qm, name="IPQC pass rate < 95 % on a line this month",
                                      kpi="ipqc.fpy", dim_key="line", window="month", comparator="<",
                                      threshold=95)  # fmt: skip
    services.rule_evaluate(rule=rule)
    return qm


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", ["phone", "tablet"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_management_view_on_phone_and_tablet(live_server, browser, monitor_data, device, language):
    width, height = VIEWPORTS[device]
    page = browser.new_page(viewport={"width": width, "height": height}, has_touch=True, is_mobile=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mon_qm")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    if language != "en":
        page.select_option("#lang-select", language)
        # the choice posts and reloads: wait for the page in the new language (networkidle can come first)
        page.wait_for_function("l => document.documentElement.lang === l", arg=language)
    page.goto(f"{live_server.url}/monitor/")
    page.wait_for_selector("canvas[data-drawn='true']")
    layout = page.evaluate(
        """() => ({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,
                   wide: [...document.querySelectorAll('main *')]
                      .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                                   && !e.closest('.table-wrap, details'))
                      .map(e => e.tagName + '.' + e.className).slice(0, 5)})"""
    )
    assert layout["scroll"] <= layout["inner"], layout  # no sideways scrolling of the page
    assert layout["wide"] == [], layout  # nothing sticks out (tables scroll inside their own box)
    # the objectives' traffic lights
    lights = page.locator(".monitor-objectives .pill")
    assert lights.count() == 2
    for i in range(lights.count()):
        assert lights.nth(i).is_visible()
        box = lights.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    classes = {lights.nth(i).get_attribute("class") for i in range(lights.count())}
    assert any("pill-bad" in c or "pill-warn" in c for c in classes), classes  # the off-track one shows it
    # the trend charts: drawn, on screen, not squeezed
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 5
    for i in range(canvases.count()):
        box = canvases.nth(i).bounding_box()
        assert box["width"] >= min(300, width - 80) and box["height"] >= 150, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert page.evaluate("() => [...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))")
    # the alarm is listed and its link on screen
    assert page.locator(".monitor-alarms a").first.is_visible()
    # the navigation: every entry on screen, a touch target; the monitor's own links lead on
    links = page.locator("nav.mainnav a")
    assert links.count() >= 5
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (links.nth(i).inner_text(), box)
        assert box["height"] >= 44
    for selector in (".monitor-actions a", ".monitor-actions button", ".monitor-actions select"):
        for i in range(page.locator(selector).count()):
            box = page.locator(selector).nth(i).bounding_box()
            assert box["x"] + box["width"] <= width and box["height"] >= 40, (selector, box)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"monitor_{device}_{language}.png"), full_page=True)
    page.click("a[href='/monitor/trends/']")
    page.wait_for_url(f"{live_server.url}/monitor/trends/")
    page.wait_for_selector("canvas[data-drawn='true']")
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / f"monitor_trends_{device}_{language}.png"), full_page=True)
