"""Internal audits and change control in a real browser, English and Chinese: the lead auditor records a
checklist item (clause titles in the reader's language); a board member signs a change approval.

Drives Debian's /usr/bin/chromium (never a downloaded browser); skipped when it is missing."""

import pytest
from django.urls import reverse

from audits.tests.factories import planned_audit
from changes.tests.factories import at_board
from conftest import PASSWORD
from qms.core.models import Role

from .test_browser_decision_offers import _login, browser, needs_chromium  # noqa: F401

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]


def _people(make_user):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Li Na"),
        "qe2": make_user("qe2", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Wang Fang"),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
        "prod": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_lead_auditor_records_a_checklist_item(live_server, browser, site, make_user, language):  # noqa: F811
    people = _people(make_user)
    audit = planned_audit(site, people, chapters=("9.2",))
    item = audit.items.get()
    context, page = _login(browser, live_server, people["qe"], language)
    page.goto(f"{live_server.url}{reverse('audits:audit_detail', args=[audit.code])}")
    assert ("内部审核" if language == "zh-hans" else "Internal audit") in page.locator(f"#item-{item.pk}").inner_text()
    page.select_option(f"#r{item.pk}", "conforming")
    page.fill(f"#e{item.pk}", "Audit records 2026 sampled")
    page.locator(f"#item-{item.pk} button[type=submit]").click()
    page.wait_for_load_state()
    text = page.locator(f"#item-{item.pk}").inner_text()
    assert ("符合" if language == "zh-hans" else "Conforming") in text
    item.refresh_from_db()
    assert item.result == "conforming" and item.evidence == "Audit records 2026 sampled"
    context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_board_member_signs_the_change(live_server, browser, site, make_user, language):  # noqa: F811
    people = _people(make_user)
    change = at_board(site, people)
    context, page = _login(browser, live_server, people["qm"], language)
    page.goto(f"{live_server.url}{reverse('changes:change_detail', args=[change.code])}")
    page.click(f"a[href='{reverse('changes:board_sign', args=[change.code])}']")
    page.check("input[name=vote][value=approve]")
    if page.locator("#id_username").count():
        page.fill("#id_username", "qm")
    page.fill("#id_password", PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"**{reverse('changes:change_detail', args=[change.code])}")
    assert change.votes.get().member == people["qm"]
    assert ("批准" if language == "zh-hans" else "Approve") in page.content()
    context.close()
