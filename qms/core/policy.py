"""Every permission decision, in one place (DESIGN.md convention 6).

A permission is a string "<area>.<action>". Roles are held per site; `can()` answers for one site or for
any of the user's sites. Views declare the permission they need (`qms.core.views_auth.require`), templates
ask `can` through the `{% can %}` tag, services ask `check()` and raise a readable error.
Segregation of duties: `check_not_author()`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .errors import PermissionRefused
from .models import Membership, Role

R = Role
ALL = set(Role.values)
WRITERS = ALL - {R.AUDITOR}
QUALITY = {R.QUALITY_ENGINEER, R.QUALITY_MANAGER}

# permission -> roles that hold it. Read permissions include the auditor; nothing that writes does.
PERMISSIONS: dict[str, set[str]] = {
    # portal and kernel
    "portal.view": ALL,
    "audit.view": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER, R.AUDITOR, R.ADMINISTRATOR},
    "audit.verify": {R.QUALITY_MANAGER, R.ADMINISTRATOR},
    "reports.export": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER, R.AUDITOR, R.ADMINISTRATOR, R.SUPPLIER_QUALITY_ENGINEER},
    "masterdata.view": ALL,
    "masterdata.change": {R.ADMINISTRATOR, R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "masterdata.import": {R.ADMINISTRATOR, R.QUALITY_MANAGER},
    "equipment.calibrate": {R.ADMINISTRATOR, R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "users.manage": {R.ADMINISTRATOR},
    "objectives.manage": {R.QUALITY_MANAGER},
    "alarms.manage": {R.QUALITY_MANAGER, R.ADMINISTRATOR},
    "alarms.acknowledge": WRITERS,
    # suppliers
    "suppliers.view": ALL,
    "suppliers.change": {R.SUPPLIER_QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "suppliers.approve": {R.SUPPLIER_QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "suppliers.certificates": {R.SUPPLIER_QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "suppliers.ppap_review": {R.SUPPLIER_QUALITY_ENGINEER, R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "suppliers.ppap_approve": {R.SUPPLIER_QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "suppliers.scorecard": ALL - {R.INSPECTOR},
    # traceability
    "lots.view": ALL,
    "lots.receive": {R.INSPECTOR, R.QUALITY_ENGINEER, R.QUALITY_MANAGER, R.PRODUCTION_SUPERVISOR},
    "lots.produce": {R.PRODUCTION_SUPERVISOR, R.QUALITY_MANAGER},
    "lots.ship": {R.PRODUCTION_SUPERVISOR, R.QUALITY_MANAGER},
    "lots.import": {R.ADMINISTRATOR, R.QUALITY_MANAGER},
    "lots.release": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "lots.hold": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "trace.view": ALL,
    "recall.manage": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "recall.approve": {R.QUALITY_MANAGER},
    # inspection
    "inspection.view": ALL,
    "inspection.perform": {R.INSPECTOR, R.QUALITY_ENGINEER},
    "inspection.plan_edit": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "inspection.plan_approve": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "inspection.release": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "spc.freeze_limits": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "inspection.switching_authority": {R.QUALITY_MANAGER},
    "inspection.line_correction": {R.PRODUCTION_SUPERVISOR, R.QUALITY_MANAGER},
    # nonconformance
    "ncr.view": ALL,
    "ncr.create": WRITERS,
    "ncr.manage": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "mrb.sign": {R.MRB_MEMBER, R.QUALITY_MANAGER, R.QUALITY_ENGINEER, R.PRODUCTION_SUPERVISOR},
    "complaints.manage": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER},
    # capa
    "capa.view": ALL,
    "capa.manage": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER, R.SUPPLIER_QUALITY_ENGINEER},
    "capa.verify": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "scar.manage": {R.SUPPLIER_QUALITY_ENGINEER, R.QUALITY_MANAGER},
}


def _roles_for(perm: str) -> set[str]:
    try:
        return PERMISSIONS[perm]
    except KeyError:
        raise KeyError(f"Unknown permission {perm!r}: declare it in qms/core/policy.py") from None


def memberships(user) -> list[tuple[int, str]]:
    """(site_id, role) pairs of an active user, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_qms_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user, is_active=True).values_list("site_id", "role"))
        user._qms_memberships = cached
    return cached


def roles(user, site=None) -> set[str]:
    site_id = getattr(site, "pk", site)
    return {role for sid, role in memberships(user) if site_id is None or sid == site_id}


def can(user, perm: str, site=None) -> bool:
    """May `user` do `perm` at `site` (or at any of their sites when site is None)?"""
    allowed = _roles_for(perm)
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return bool(roles(user, site) & allowed)


def sites_for(user, perm: str = "portal.view") -> list[int]:
    """Site ids where the user holds `perm`: every list filters by these."""
    allowed = _roles_for(perm)
    if getattr(user, "is_superuser", False) and user.is_active:
        from .models import Site

        return list(Site.objects.values_list("pk", flat=True))
    return sorted({sid for sid, role in memberships(user) if role in allowed})


def check(user, perm: str, site=None) -> None:
    if not can(user, perm, site):
        raise PermissionRefused(
            _("You do not have the right to do this (%(perm)s). Ask your quality manager for the role.")
            % {"perm": perm}
        )


def is_read_only(user) -> bool:
    return not getattr(user, "is_superuser", False) and roles(user) <= {R.AUDITOR}


def check_not_author(user, author, *, what: str = "") -> None:
    """Segregation of duties: nobody approves, releases or verifies what they authored."""
    if author is not None and user is not None and getattr(author, "pk", author) == user.pk:
        raise PermissionRefused(
            _("You authored %(what)s, so you cannot approve it. Another authorised person must do it.")
            % {"what": what or _("this record")}
        )
