from django import template

register = template.Library()

PILL = {
    # supplier status
    "approved": "pill-ok",
    "conditional": "pill-warn",
    "under_evaluation": "pill-warn",
    "prospective": "",
    "suspended": "pill-bad",
    "disqualified": "pill-bad",
    # certificate / ASL / PPAP / element
    "valid": "pill-ok",
    "pending_review": "pill-warn",
    "rejected": "pill-bad",
    "superseded": "",
    "void": "",
    "pending": "pill-warn",
    "blocked": "pill-bad",
    "open": "",
    "in_review": "pill-warn",
    "interim": "pill-warn",
    "accepted": "pill-ok",
    "not_applicable": "",
    # checklist states
    "ok": "pill-ok",
    "missing": "pill-bad",
    "expired": "pill-bad",
    "failed": "pill-bad",
    # grades
    "A": "pill-ok",
    "B": "pill-ok",
    "C": "pill-warn",
    "D": "pill-bad",
}


@register.filter
def pill(value) -> str:
    return PILL.get(str(value), "")


@register.filter
def days_left(cert, today):
    return cert.days_left(today)


@register.filter
def evidence_for(evidence: dict, number) -> list:
    """PPAP evidence offered by other apps for element `number` (see suppliers.ppap_evidence)."""
    return (evidence or {}).get(number, [])
