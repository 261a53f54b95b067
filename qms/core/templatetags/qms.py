from django import template

from qms.core import policy

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, perm, site=None):
    """{% can "ncr.manage" site as may_manage %}: the same decision as the views, from qms.core.policy."""
    return policy.can(context["request"].user, perm, site)


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs):
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        params[key] = value
    return params.urlencode()


@register.simple_tag
def form_token():
    """A create form's single-use token (qms.core.idempotency): a repeated POST creates nothing new."""
    from django.utils.html import format_html

    from qms.core.idempotency import FIELD, new_token

    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())


@register.simple_tag(takes_context=True)
def can_decide(context, decision, site):
    """{% can_decide "recall.approve" recall.site as may %}: authority at the site (segregation is decided
    by the view, which knows who played which part)."""
    return policy.can_decide(context["request"].user, decision, site)
