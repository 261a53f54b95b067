"""Pre-signature checks: the registry through which higher apps take part in the signature step.

Compliance owns the signature step (`compliance.signatures.signature_record`); an app that must have a say
before someone signs (documents: "is the signer trained on the current procedure behind this decision?")
registers a check here in its `AppConfig.ready()`:

    register_signing_check("documents.training", check)

    def check(*, meaning: str, instance, signer, site_id: int | None) -> list[GateFinding]: ...

`signature_record` calls every check inside the decision's transaction, before the signature is written:
- a finding with `block=True` refuses the signature (SignatureRefused with the finding's message), so the
  decision rolls back with it;
- a finding with `block=False` is a warning: the signature is recorded, the warning goes into the audit
  entry of the signature and into the signer's inbox, and `signature.warnings` carries it for the page.
Checks read only; they must not write. Decision pages also call them before the signer types a password
(`SignatureForm(gate_record=...)`): a finding's `notice` is what to say then ("signing will be refused").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateFinding:
    message: str  # readable by the signer, already translated
    block: bool = True
    check: str = ""  # filled by the registry: the name the check was registered under
    notice: str = ""  # said on the page before signing (default: the message)


_CHECKS: dict[str, Callable] = {}


def register_signing_check(name: str, check: Callable) -> None:
    """Register (or replace) a pre-signature check under `name`."""
    _CHECKS[name] = check


def unregister_signing_check(name: str) -> None:
    _CHECKS.pop(name, None)


def registered_checks() -> dict[str, Callable]:
    return dict(_CHECKS)


def signing_findings(*, meaning: str, instance, signer) -> list[GateFinding]:
    """Every registered check's findings for `signer` signing `instance` with `meaning`."""
    if not _CHECKS:
        return []
    from .audit_trail import site_of

    site_id = site_of(instance)
    findings: list[GateFinding] = []
    for name, check in _CHECKS.items():
        for f in check(meaning=meaning, instance=instance, signer=signer, site_id=site_id) or []:
            findings.append(
                GateFinding(message=str(f.message), block=bool(f.block), check=name, notice=str(f.notice or f.message))
            )
    return findings
