"""How batchrecords plugs into the layers below: a release check (open major/critical deviations; on GMP
sites the signed review by exception), the batch record started with its work order, scan resolvers and
dashboard tiles."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.models import Industry


def is_gmp_site(site) -> bool:
    return site.industry == Industry.PHARMA or bool(site.requires_qa_release)


def release_check(lot) -> list[str]:
    """Registered with traceability.gates: why `lot` may not be released as far as batch records go."""
    from .models import EbrStatus, ExecutedBatchRecord, MasterBatchRecord, MbrStatus
    from .selectors import blocking_deviations

    reasons = []
    for dev in blocking_deviations(lot):
        reasons.append(
            _("Deviation %(code)s (%(cls)s) on lot %(lot)s is not approved yet: %(title)s")
            % {"code": dev.code, "cls": dev.get_classification_display(), "lot": lot.code, "title": dev.title}
        )
    if is_gmp_site(lot.site) and lot.work_order_id:
        records = list(
            ExecutedBatchRecord.objects.filter(work_order_id=lot.work_order_id).only("code", "status", "site_id")
        )
        if (
            not records
            and MasterBatchRecord.objects.filter(
                site_id=lot.site_id, part_id=lot.part_id, status=MbrStatus.EFFECTIVE
            ).exists()
        ):
            reasons.append(
                _("Lot %(lot)s has no executed batch record: a GMP release needs the reviewed batch record.")
                % {"lot": lot.code}
            )
        for ebr in records:
            if ebr.status != EbrStatus.REVIEWED:
                reasons.append(
                    _("Batch record %(code)s of lot %(lot)s is not reviewed yet (review by exception, e-signed by QA).")
                    % {"code": ebr.code, "lot": lot.code}
                )
    return reasons


def work_order_check(work_order, step: str) -> list[str]:
    """Registered with traceability.gates: when a work order starts to run, its batch record is made from
    the product's effective master batch record once the start has committed. It never refuses."""
    if step == "run":
        wo_id = work_order.pk

        def start():
            from qms.core.scoping import system_scope

            from .services import ebr_create_for_work_order

            with system_scope():
                ebr_create_for_work_order(work_order_id=wo_id)

        transaction.on_commit(start)
    return []


def _resolve(model, url_name, perm):
    def resolve(user, code: str) -> str | None:
        obj = model.objects.filter(code__iexact=code.strip()).only("code", "site_id").first()
        if obj is None or not policy.can(user, perm, obj.site_id):
            return None
        return reverse(url_name, args=[obj.code])

    return resolve


def connect() -> None:
    from qms.core.registries import ScanResolver, register_dashboard_tile, register_scan_resolver
    from traceability import gates

    from .models import Deviation, ExecutedBatchRecord, MasterBatchRecord
    from .selectors import dashboard_tiles

    gates.register_release_check(release_check)
    gates.register_work_order_check(work_order_check)
    register_scan_resolver(
        ScanResolver("EBR", _resolve(ExecutedBatchRecord, "batchrecords:ebr_detail", "batch.view"), order=70)
    )
    register_scan_resolver(
        ScanResolver("MBR", _resolve(MasterBatchRecord, "batchrecords:mbr_detail", "batch.view"), order=71)
    )
    register_scan_resolver(
        ScanResolver("DEV", _resolve(Deviation, "batchrecords:deviation_detail", "deviation.view"), order=72)
    )
    register_dashboard_tile(dashboard_tiles)
