"""The effectiveness check, as CAPA (8D D8) and change control (IATF 16949 8.5.6.1.1) both record it: after
an observation period someone independent judges, with evidence, whether the action worked, and signs.

The app owns its check model, who may judge and what follows (a CAPA reopens, a change goes back to
implementation); these two steps are the same everywhere: `effectiveness_input` judges what was entered,
`effectiveness_sign` writes the result onto the locked check and signs it, in the caller's transaction.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qms.core.errors import DomainError
from qms.core.services import clean_text

from .signatures import signature_record


class CheckResult(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    EFFECTIVE = "effective", gettext_lazy("Effective")
    NOT_EFFECTIVE = "not_effective", gettext_lazy("Not effective")


def effectiveness_input(*, result: str, evidence: str, due_on, today=None) -> str:
    """The cleaned evidence, once the result is one of the two and "effective" comes after the period."""
    if result not in (CheckResult.EFFECTIVE, CheckResult.NOT_EFFECTIVE):
        raise DomainError(_("Choose effective or not effective."))
    evidence = clean_text(evidence)
    if not evidence:
        raise DomainError(_("Record the evidence for the result."))
    if result == CheckResult.EFFECTIVE and (today or timezone.localdate()) < due_on:
        raise DomainError(
            _("The check is due on %(d)s: effectiveness can be confirmed only after the observation period.")
            % {"d": due_on}
        )
    return evidence


def effectiveness_sign(*, locked, result: str, evidence: str, user, credential, still_due: bool):
    """Record and sign the result on `locked` (a check row under select_for_update). `still_due`: the
    record it judges is still waiting for this check; otherwise a second person judged it already."""
    if locked.result != CheckResult.PENDING or not still_due:
        raise DomainError(_("This effectiveness check was recorded already."))
    locked.result = result
    locked.evidence = evidence
    locked.checked_by = user
    locked.checked_at = timezone.now()
    locked.save(reason=evidence)
    signature_record(
        credential=credential,
        instance=locked,
        meaning="verified" if result == CheckResult.EFFECTIVE else "rejected",
        reason=evidence,
    )
    return locked
