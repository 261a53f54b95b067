"""capa plugs into nonconformance (related records, page actions, the return-to-supplier signal) and
into the kernel (scan resolvers, dashboard tiles). Connected once from AppConfig.ready()."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core import policy


def resolve_capa_code(user, code: str) -> str | None:
    from .models import Capa

    capa = Capa.objects.filter(code__iexact=code.strip()).only("code", "site_id").first()
    if capa is None or not policy.can(user, "capa.view", capa.site_id):
        return None
    return reverse("capa:capa_detail", args=[capa.code])


def resolve_scar_code(user, code: str) -> str | None:
    from .models import Scar

    scar = Scar.objects.filter(code__iexact=code.strip()).only("code", "site_id").first()
    if scar is None or not policy.can(user, "capa.view", scar.site_id):
        return None
    return reverse("capa:scar_detail", args=[scar.code])


def related_records(obj) -> list[dict]:
    """CAPAs and SCARs linked to an NCR or a complaint (shown on their pages)."""
    from nonconformance.models import Complaint, Ncr

    from .models import Capa, Scar

    rows = []
    if isinstance(obj, Ncr):
        capas = Capa.objects.filter(ncr=obj)
        scars = Scar.objects.filter(ncr=obj)
    elif isinstance(obj, Complaint):
        capas = Capa.objects.filter(complaint=obj)
        scars = Scar.objects.none()
    else:
        return rows
    for capa in capas.order_by("pk"):
        rows.append(
            {
                "label": _("CAPA"),
                "code": capa.code,
                "title": capa.title,
                "status": capa.get_status_display(),
                "url": reverse("capa:capa_detail", args=[capa.code]),
            }
        )
    for scar in scars.order_by("pk"):
        rows.append(
            {
                "label": _("SCAR"),
                "code": scar.code,
                "title": scar.title,
                "status": scar.get_status_display(),
                "url": reverse("capa:scar_detail", args=[scar.code]),
            }
        )
    return rows


def related_records_many(*, ncr_ids, complaint_ids) -> dict[tuple[str, int], list[dict]]:
    """CAPAs of many NCRs and complaints at once (root-cause view): one query."""
    from django.db.models import Q

    from .models import Capa

    out: dict[tuple[str, int], list[dict]] = {}
    if not ncr_ids and not complaint_ids:
        return out
    capas = Capa.objects.filter(Q(ncr_id__in=ncr_ids) | Q(complaint_id__in=complaint_ids)).order_by("pk")
    for capa in capas:
        row = {
            "label": _("CAPA"),
            "code": capa.code,
            "title": capa.title,
            "status": capa.get_status_display(),
            "url": reverse("capa:capa_detail", args=[capa.code]),
            "site_id": capa.site_id,
        }
        if capa.ncr_id in ncr_ids:
            out.setdefault(("ncr", capa.ncr_id), []).append(row)
        if capa.complaint_id in complaint_ids:
            out.setdefault(("complaint", capa.complaint_id), []).append(row)
    return out


def page_actions(user, obj) -> list[dict]:
    from nonconformance.models import Complaint, Ncr

    actions = []
    if isinstance(obj, (Ncr, Complaint)) and policy.can(user, "capa.manage", obj.site):
        param = "ncr" if isinstance(obj, Ncr) else "complaint"
        actions.append({"label": _("Open a CAPA"), "url": reverse("capa:capa_create") + f"?{param}={obj.code}"})
    if isinstance(obj, Ncr) and obj.supplier_id and policy.can(user, "scar.manage", obj.site):
        actions.append({"label": _("Send a SCAR"), "url": reverse("capa:scar_create") + f"?ncr={obj.code}"})
    return actions


def on_supplier_return(sender, line, ncr, user, **kwargs):
    from .services import scar_open_from_return

    scar_open_from_return(line=line, ncr=ncr, user=user)


def connect() -> None:
    from nonconformance.registries import (
        register_action_provider,
        register_related_many_provider,
        register_related_provider,
    )
    from nonconformance.signals import supplier_return_executed

    register_related_provider(related_records)
    register_related_many_provider(related_records_many)
    register_action_provider(page_actions)
    supplier_return_executed.connect(on_supplier_return, dispatch_uid="capa.scar_from_return")


def capa_tiles(user) -> list[dict]:
    from .models import CAPA_ACTIVE, ActionStatus, Capa, CapaAction

    site_ids = policy.sites_for(user, "capa.view")
    if not site_ids:
        return []
    active = Capa.objects.filter(site_id__in=site_ids, status__in=CAPA_ACTIVE).count()
    overdue = (
        CapaAction.objects.filter(capa__site_id__in=site_ids, status=ActionStatus.OPEN, due_on__lt=timezone.localdate())
        .values("capa_id")
        .distinct()
        .count()
    )
    return [
        {"label": _("Open CAPAs"), "value": active, "url": reverse("capa:capa_list"), "level": "info"},
        {
            "label": _("CAPAs with overdue actions"),
            "value": overdue,
            "url": reverse("capa:capa_list") + "?status=overdue",
            "level": "bad" if overdue else "ok",
        },
    ]
