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
