"""The training gate: registered into compliance's pre-signature checks (compliance.signing_gates).

Where a site says so (SiteTrainingSetting.gate_mode warn/block and a GateRule per decision), a person
signs a lot release, an MRB decision or an inspection's completion only when trained on the version in
force of the procedure behind it. Block: the signature (and with it the decision) is refused with the
reason. Warn: the signature is recorded; the warning is audited with it and sent to the signer.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from compliance.signing_gates import GateFinding
from qms.core.services import SYSTEM_USERNAME

from .models import GATED_RECORDS, GatedDecision, GateMode, GateRule, SiteTrainingSetting
from .selectors import effective_version, qualifying_record


def training_gate_check(*, meaning: str, instance, signer, site_id) -> list[GateFinding]:
    decision = GATED_RECORDS.get(instance._meta.label_lower)
    if decision is None or site_id is None or signer is None:
        return []
    if getattr(signer, "username", "") == SYSTEM_USERNAME:
        return []  # automatic steps run as the system actor, which is not a trainee
    setting = SiteTrainingSetting.objects.filter(site_id=site_id).first()
    if setting is None or setting.gate_mode == GateMode.OFF:
        return []
    rule = (
        GateRule.objects.filter(site_id=site_id, decision=decision, is_active=True).select_related("document").first()
    )
    if rule is None:
        return []
    version = effective_version(rule.document)
    if version is None:
        return []
    if qualifying_record(signer.pk, version.pk) is not None:
        return []
    block = setting.gate_mode == GateMode.BLOCK
    message = _(
        "%(who)s is not trained on %(number)s %(title)s version %(v)s, the procedure this site requires for "
        "signing a %(decision)s."
    ) % {
        "who": signer.printed_name,
        "number": rule.document.number,
        "title": rule.document.title,
        "v": version.label,
        "decision": GatedDecision(decision).label,
    }
    if block:
        after = _("The signature was refused: complete the training first, or ask a trained colleague.")
        before = _("Signing will be refused: complete the training first, or ask a trained colleague.")
    else:
        after = _("The signature was recorded with this warning.")
        before = _("You may sign; the signature will be recorded with this warning and you will be reminded.")
    return [GateFinding(message=f"{message} {after}", block=block, notice=f"{message} {before}")]
