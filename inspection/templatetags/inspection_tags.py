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
