from django import template
from django.utils.translation import pgettext_lazy

register = template.Library()

SEVERITY_LABELS = {
    "normal": pgettext_lazy("sampling", "normal"),
    "tightened": pgettext_lazy("sampling", "tightened"),
    "reduced": pgettext_lazy("sampling", "reduced"),
    "discontinued": pgettext_lazy("sampling", "discontinued"),
}


@register.filter
def severity_label(code: str) -> str:
    """ISO 2859-1 inspection severity, in the reader's language."""
    return SEVERITY_LABELS.get(code, code)


CAUSE_LABELS = {
    "two_of_five_rejected": pgettext_lazy(
        "sampling", "2 of 5 or fewer consecutive lots not accepted on normal inspection"
    ),
    "five_accepted_on_tightened": pgettext_lazy("sampling", "5 consecutive lots accepted on tightened inspection"),
    "score_reached_30": pgettext_lazy(
        "sampling", "switching score reached 30, production steady, reduced approved by the authority"
    ),
    "rejected_on_reduced": pgettext_lazy("sampling", "a lot was not accepted on reduced inspection"),
    "reinstate_on_reduced": pgettext_lazy(
        "sampling", "Ac exceeded on reduced inspection (lot accepted, normal reinstated)"
    ),
    "irregular_production": pgettext_lazy("sampling", "production irregular or delayed"),
    "authority_decision": pgettext_lazy("sampling", "decision of the responsible authority"),
    "five_not_accepted_on_tightened": pgettext_lazy(
        "sampling", "5 lots not accepted while on tightened inspection: inspection discontinued"
    ),
    "restored": pgettext_lazy(
        "sampling", "inspection restored by the quality manager after corrective action (on tightened)"
    ),
}


@register.filter
def cause_label(code: str) -> str:
    """Why the ISO 2859-1 severity switched (sampling.CAUSES), in the reader's language."""
    return CAUSE_LABELS.get(code, code)
