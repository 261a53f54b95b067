"""Deployment checks for the evidence set-up (`manage.py check --deploy`)."""

from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def anchor_key_set(app_configs, **kwargs):
    from .anchors import anchor_key_configured

    if anchor_key_configured():
        return []
    return [
        Warning(
            "AUDIT_ANCHOR_KEY is not set: audit-trail checkpoints are signed with a key derived from SECRET_KEY.",
            hint="Set AUDIT_ANCHOR_KEY to a file path (or value) kept outside the database host; see docs/audit-trail.md.",
            id="compliance.W001",
        )
    ]
