"""Every permission decision, in one place (DESIGN.md convention 6).

A permission is a string "<area>.<action>". Roles are held per site; `can()` answers for one site or for
any of the user's sites. Views declare the permission they need (`qms.core.views_auth.require`), templates
ask `can` through the `{% can %}` tag, services ask `check()` and raise a readable error.
Segregation of duties: `check_segregation()` (and its short form `check_not_author()`).

Decisions (release, hold, lift, disposition, approve, verify, close, cancel) are declared in `DECISIONS`:
each has one door (the service that takes it, marked `@door("<decision>")`), the permission whose roles
may take it by default, the parts a person may have played that bar them, and the signature meaning.
Per site the roles can be replaced (`core.DecisionAuthority`). `can_decide()` answers pages and services
alike; `docs/decisions.md` lists the same table and a test keeps both in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    "recall.view": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER, R.AUDITOR, R.ADMINISTRATOR},
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
    # documents (controlled documents, training)
    "documents.view": ALL,
    "documents.register.view": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER, R.AUDITOR, R.ADMINISTRATOR},
    "documents.author": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER, R.SUPPLIER_QUALITY_ENGINEER, R.PRODUCTION_SUPERVISOR},
    "documents.review": WRITERS - {R.ADMINISTRATOR},
    "documents.approve": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "documents.manage": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "documents.settings": {R.QUALITY_MANAGER},
    "documents.import": {R.QUALITY_MANAGER, R.ADMINISTRATOR},
    "training.view": ALL,
    "training.matrix.view": {
        R.QUALITY_MANAGER,
        R.QUALITY_ENGINEER,
        R.PRODUCTION_SUPERVISOR,
        R.AUDITOR,
        R.ADMINISTRATOR,
    },  # fmt: skip
    "training.acknowledge": WRITERS,
    "training.record": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER, R.PRODUCTION_SUPERVISOR},
    #
    # batchrecords (master and executed batch records, deviations)
    "batch.view": ALL,
    "batch.mbr_edit": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "batch.mbr_approve": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "batch.execute": {R.PRODUCTION_SUPERVISOR, R.INSPECTOR, R.QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "batch.review": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "deviation.view": ALL,
    "deviation.raise": WRITERS,
    "deviation.manage": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "deviation.approve": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    #
    # changes (change control)
    "changes.view": ALL,
    "changes.request": WRITERS,
    "changes.assess": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "changes.board": {
        R.QUALITY_MANAGER,
        R.QUALITY_ENGINEER,
        R.PRODUCTION_SUPERVISOR,
        R.MRB_MEMBER,
        R.SUPPLIER_QUALITY_ENGINEER,
    },
    "changes.verify": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    #
    # audits (internal audits)
    "audits.view": ALL,
    "audits.plan": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER},
    "audits.perform": {
        R.QUALITY_MANAGER,
        R.QUALITY_ENGINEER,
        R.SUPPLIER_QUALITY_ENGINEER,
        R.PRODUCTION_SUPERVISOR,
        R.MRB_MEMBER,
    },
    #
    # packs (compliance packs, lot bundles)
    "packs.view": ALL,
    "packs.export": {R.QUALITY_MANAGER, R.QUALITY_ENGINEER, R.AUDITOR, R.ADMINISTRATOR},
    "packs.control_plan": {R.QUALITY_ENGINEER, R.QUALITY_MANAGER},
    "packs.retention": {R.QUALITY_MANAGER, R.ADMINISTRATOR},
    #
    # api (service accounts, tokens, webhooks)
    "api.manage": {R.ADMINISTRATOR},
    "api.view": ALL,
    #
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


# --------------------------------------------------------------------------------------------- decisions

# The parts a person may have played in a record; the segregation helper names the one that bars them.
INVOLVEMENT_LABELS = {
    "authored": gettext_lazy("authored"),
    "uploaded": gettext_lazy("uploaded"),
    "executed": gettext_lazy("executed"),
    "inspected": gettext_lazy("inspected"),
    "submitted": gettext_lazy("submitted"),
    "placed": gettext_lazy("placed"),
}


@dataclass(frozen=True)
class Decision:
    key: str
    perm: str  # default authority: the roles holding this permission
    door: str  # dotted path of the one service that takes it
    barred: tuple[str, ...] = ()  # involvements that bar a person from taking it
    meaning: str = ""  # e-signature meaning, "" when unsigned


def _d(key, perm, door, barred=(), meaning=""):
    return key, Decision(key, perm, door, tuple(barred), meaning)


DECISIONS: dict[str, Decision] = dict(
    [
        _d(
            "lot.release",
            "inspection.release",
            "inspection.services.lot_release_sign",
            ("inspected", "authored"),
            "released",
        ),
        _d("lot.release_auto", "inspection.release", "inspection.services.lot_release_auto", (), "approved"),
        _d("lot.reject", "lots.release", "traceability.services.lot_reject"),
        _d("lot.hold", "lots.hold", "traceability.services.lot_hold_place"),
        _d("lot.hold_lift", "lots.hold", "traceability.services.lot_hold_lift"),
        _d("recall.approve", "recall.approve", "traceability.services.recall_approve", ("authored",), "approved"),
        _d("recall.close", "recall.manage", "traceability.services.recall_close"),
        _d("plan.approve", "inspection.plan_approve", "inspection.services.plan_approve", ("authored",), "approved"),
        _d("supplier.decide", "suppliers.approve", "suppliers.services._supplier_decide", ("authored",), "approved"),
        _d("certificate.accept", "suppliers.certificates", "suppliers.services.certificate_accept", ("uploaded",)),
        _d("ppap.decide", "suppliers.ppap_approve", "suppliers.services._ppap_decide", ("submitted",), "approved"),
        _d("mrb.sign", "mrb.sign", "nonconformance.services.mrb_decide", ("authored",), "approved"),
        _d("disposition.execute", "ncr.manage", "nonconformance.services.disposition_line_execute"),
        _d("ncr.verify", "ncr.manage", "nonconformance.services.ncr_verify", ("authored", "executed"), "verified"),
        _d("ncr.close", "ncr.manage", "nonconformance.services.ncr_close", ("executed",)),
        _d("ncr.cancel", "ncr.manage", "nonconformance.services.ncr_cancel", (), "rejected"),
        _d("complaint.cancel", "complaints.manage", "nonconformance.services.complaint_cancel", (), "rejected"),
        _d("capa.verify", "capa.verify", "capa.services.effectiveness_check_record", ("executed",), "verified"),
        _d("capa.close", "capa.manage", "capa.services.capa_close"),
        _d("capa.cancel", "capa.manage", "capa.services.capa_cancel", (), "rejected"),
        _d("spc.freeze", "spc.freeze_limits", "inspection.spc_services.control_limits_freeze", (), "approved"),
        _d("asl.decide", "suppliers.approve", "suppliers.services._asl_decide", (), "approved"),
        # documents
        _d("document.review", "documents.review", "documents.services.version_review", ("authored",), "reviewed"),
        _d("document.approve", "documents.approve", "documents.services.version_approve", ("authored",), "approved"),
        _d("document.obsolete", "documents.approve", "documents.services.document_obsolete", (), "approved"),
        _d("training.acknowledge", "training.acknowledge", "documents.services.training_acknowledge", (), "reviewed"),
        _d("training.assess", "training.record", "documents.services.training_record_instructor", (), "verified"),
        #
        # batchrecords
        _d("mbr.approve", "batch.mbr_approve", "batchrecords.services.mbr_approve", ("authored",), "approved"),
        _d("ebr.step_verify", "batch.execute", "batchrecords.services.ebr_step_verify", ("executed",), "verified"),
        _d("ebr.review", "batch.review", "batchrecords.services.ebr_review_sign", ("executed",), "reviewed"),
        _d(
            "deviation.approve",
            "deviation.approve",
            "batchrecords.services.deviation_approve",
            ("authored",),
            "approved",
        ),
        #
        # changes
        _d("change.board_sign", "changes.board", "changes.services.change_board_sign", ("authored",), "approved"),
        _d(
            "change.verify", "changes.verify", "changes.services.change_effectiveness_record", ("executed",), "verified"
        ),
        _d("change.close", "changes.assess", "changes.services.change_close"),
        _d("change.cancel", "changes.assess", "changes.services.change_cancel", (), "rejected"),
        #
        # audits
        _d("audit.finding_escalate", "audits.perform", "audits.services.finding_escalate"),
        _d("audit.close", "audits.perform", "audits.services.audit_close", (), "approved"),
        #
        # packs
        #
        # api
        #
    ]
)

# decision -> dotted path of the function marked @door (filled at import of the services)
DOORS: dict[str, str] = {}


def door(decision: str):
    """Mark the one service that takes `decision`. The access tests compare DOORS, DECISIONS and
    docs/decisions.md, so a decision cannot gain a second door or lose its rule unnoticed."""
    if decision not in DECISIONS:
        raise KeyError(f"Unknown decision {decision!r}: declare it in qms.core.policy.DECISIONS")

    def mark(fn):
        path = f"{fn.__module__}.{fn.__qualname__}"
        if DOORS.get(decision, path) != path:
            raise RuntimeError(f"Decision {decision!r} has two doors: {DOORS[decision]} and {path}")
        DOORS[decision] = path
        fn.qms_decision = decision
        return fn

    return mark


def decision_roles(decision: str, site) -> set[str]:
    """Roles that may take `decision` at `site`: the site's own table when it has one, else the default."""
    from .models import DecisionAuthority

    spec = DECISIONS[decision]
    site_id = getattr(site, "pk", site)
    configured = set(
        DecisionAuthority.objects.filter(site_id=site_id, decision=decision, is_active=True).values_list(
            "role", flat=True
        )
    )
    return (configured or set(_roles_for(spec.perm))) - {R.AUDITOR}


def can_decide(user, decision: str, site, *, involved: dict | None = None) -> bool:
    """May `user` take `decision` at `site` (authority there, and no barring part in `involved`)?"""
    if user is None or not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return False
    if not (getattr(user, "is_superuser", False) or roles(user, site) & decision_roles(decision, site)):
        return False
    return segregation_conflict(user, decision=decision, involved=involved or {}) is None


def decides_anywhere(user, decision: str) -> bool:
    """Does `user` hold the authority for `decision` at one of their sites (the site's own table, else the
    default roles)? The guard of a page that exists to take one decision; the door decides per record."""
    if user is None or not getattr(user, "is_active", False) or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    held: dict[int, set[str]] = {}
    for site_id, role in memberships(user):
        held.setdefault(site_id, set()).add(role)
    return any(held_roles & decision_roles(decision, site_id) for site_id, held_roles in held.items())


def check_decide(user, decision: str, site, *, involved: dict | None = None, what: str = "") -> None:
    """Raise a readable refusal when `user` may not take `decision` at `site`; names who can instead."""
    if user is None or not getattr(user, "is_active", False):
        raise PermissionRefused(_("This decision needs a signed-in, active person."))
    if not (getattr(user, "is_superuser", False) or roles(user, site) & decision_roles(decision, site)):
        names = eligible_names(decision, site, involved=involved)
        raise PermissionRefused(
            _("You do not have the authority for this decision at this site.")
            + " "
            + (
                _("Who can act: %(names)s.") % {"names": ", ".join(names)}
                if names
                else _("Nobody at this site holds it yet: ask your administrator to assign the authority.")
            )
        )
    check_segregation(user, decision=decision, involved=involved or {}, what=what, site=site)


def _ids(value) -> set[int]:
    if value is None:
        return set()
    if isinstance(value, (set, list, tuple, frozenset)):
        return {getattr(v, "pk", v) for v in value if v is not None}
    return {getattr(value, "pk", value)}


def segregation_conflict(user, *, decision: str, involved: dict) -> str | None:
    """The first involvement that bars `user` from `decision` ("authored", "inspected", ...), or None."""
    if user is None:
        return None
    for part in DECISIONS[decision].barred:
        if user.pk in _ids(involved.get(part)):
            return part
    return None


def check_segregation(user, *, decision: str, involved: dict, what: str = "", site=None) -> None:
    """Segregation of duties, one rule for every decision: nobody approves, reviews, verifies or releases
    what they authored, uploaded, executed or inspected. `involved` maps the part played to the user(s)
    who played it, e.g. {"inspected": {ids}, "authored": plan.created_by}."""
    part = segregation_conflict(user, decision=decision, involved=involved)
    if part is None:
        return
    message = _("You %(part)s %(what)s, so you cannot take this decision: another authorised person must.") % {
        "part": INVOLVEMENT_LABELS.get(part, part),
        "what": what or _("this record"),
    }
    if site is not None:
        names = eligible_names(decision, site, involved=involved)
        if names:
            message += " " + _("Who can act: %(names)s.") % {"names": ", ".join(names)}
    raise PermissionRefused(message)


def eligible_users(decision: str, site, *, involved: dict | None = None) -> list:
    """Active people at `site` who could take `decision` on this record (for "who can act instead")."""
    from .models import User

    allowed = decision_roles(decision, site)
    users = (
        User.objects.filter(
            is_active=True,
            memberships__site=site,
            memberships__role__in=list(allowed),
            memberships__is_active=True,
        )
        .distinct()
        .order_by("username")
    )
    return [u for u in users if segregation_conflict(u, decision=decision, involved=involved or {}) is None]


def eligible_names(decision: str, site, *, involved: dict | None = None) -> list[str]:
    return [u.printed_name for u in eligible_users(decision, site, involved=involved)]


def decision_offer(user, decision: str, site, *, involved: dict | None = None, what: str = "") -> dict:
    """What a page shows for a decision: the form only to someone who would be allowed; otherwise why not
    and who can act instead."""
    involved = involved or {}
    may = can_decide(user, decision, site, involved=involved)
    why = ""
    if not may:
        try:
            check_decide(user, decision, site, involved=involved, what=what)
        except PermissionRefused as exc:
            why = exc.message
    return {
        "decision": decision,
        "may": may,
        "why": why,
        "who": [] if may else eligible_names(decision, site, involved=involved),
    }
