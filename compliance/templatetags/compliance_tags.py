"""Template helpers for domain pages:

{% load compliance_tags %}
{% record_trail lot %}                     (htmx-loaded audit trail of the record, for audit.view holders)
<a href="{% record_trail_url lot %}">...</a>
"""

from django import template
from django.urls import reverse

from qms.core import policy

register = template.Library()


@register.filter
def model_label(obj) -> str:
    return obj._meta.label_lower


@register.simple_tag
def record_trail_url(obj) -> str:
    return reverse("compliance:record_trail", args=[obj._meta.label_lower, str(obj.pk)])


@register.inclusion_tag("compliance/partials/_record_trail_loader.html", takes_context=True)
def record_trail(context, obj):
    request = context.get("request")
    allowed = request is not None and obj is not None and obj.pk is not None
    allowed = allowed and policy.can(request.user, "audit.view")
    return {"url": record_trail_url(obj) if allowed else "", "show": allowed}
