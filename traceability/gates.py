"""Gates: questions traceability must ask of apps above it (DESIGN.md "Gates follow the same rule").

A higher app (inspection, nonconformance) registers a check in its AppConfig.ready(); traceability's
services call every registered check and refuse with the collected reasons. Each check returns a list
of readable, translated reason strings; an empty list means "fine by me".
"""

from __future__ import annotations

from collections.abc import Callable

ReceiptCheck = Callable[..., list]  # fn(*, site, part, supplier) -> list[str]
LotCheck = Callable[[object], list]  # fn(lot) -> list[str]
WorkOrderCheck = Callable[[object, str], list]  # fn(work_order, step) -> list[str]
OperationCheck = Callable[[object], list]  # fn(operation) -> list[str]

_receipt_checks: list[ReceiptCheck] = []
_release_checks: list[LotCheck] = []
_ship_checks: list[LotCheck] = []
_work_order_checks: list[WorkOrderCheck] = []
_operation_start_checks: list[OperationCheck] = []
# The door that releases imported history lots (inspection.services.lot_release_history), registered by
# the app that owns releases: fn(*, lots, user, credential, reason) -> list of release records.
_history_release: list[Callable] = []


def _add(registry: list, fn) -> None:
    if fn not in registry:
        registry.append(fn)


def register_receipt_check(fn: ReceiptCheck) -> None:
    _add(_receipt_checks, fn)


def register_release_check(fn: LotCheck) -> None:
    _add(_release_checks, fn)


def register_ship_check(fn: LotCheck) -> None:
    _add(_ship_checks, fn)


def register_work_order_check(fn: WorkOrderCheck) -> None:
    _add(_work_order_checks, fn)


def register_operation_start_check(fn: OperationCheck) -> None:
    _add(_operation_start_checks, fn)


def register_history_release(fn: Callable) -> None:
    _history_release[:] = [fn]


def history_release(*, lots, user, credential, reason: str):
    """Release imported history lots through the registered door; refuses when none is registered."""
    from django.utils.translation import gettext as _

    from qms.core.errors import DomainError

    if not _history_release:
        raise DomainError(_("Importing released lots is not available: no release service is installed."))
    return _history_release[0](lots=lots, user=user, credential=credential, reason=reason)


def _collect(checks, *args, **kwargs) -> list[str]:
    reasons: list[str] = []
    for check in list(checks):
        reasons.extend(str(r) for r in (check(*args, **kwargs) or []) if r)
    return reasons


def receipt_reasons(*, site, part, supplier) -> list[str]:
    return _collect(_receipt_checks, site=site, part=part, supplier=supplier)


def release_reasons(lot) -> list[str]:
    return _collect(_release_checks, lot)


def ship_reasons(lot) -> list[str]:
    return _collect(_ship_checks, lot)


def work_order_reasons(work_order, step: str) -> list[str]:
    return _collect(_work_order_checks, work_order, step)


def operation_start_reasons(operation) -> list[str]:
    return _collect(_operation_start_checks, operation)


def unregister(fn) -> None:
    """For tests: remove a check from every registry."""
    for registry in (_receipt_checks, _release_checks, _ship_checks, _work_order_checks, _operation_start_checks):
        while fn in registry:
            registry.remove(fn)
