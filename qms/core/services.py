"""Kernel write services: notifications, sign-in lock-out, master data."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from . import policy
from .audit import audit_context
from .errors import DomainError
from .i18n import LazyFormat
from .models import Equipment, EquipmentKind, Membership, Notification, Part, PartCost, Role, User

log = logging.getLogger(__name__)


def notification_send(
    *,
    recipients,
    subject: str,
    body: str = "",
    link: str = "",
    dedup_key: str = "",
    site=None,
    level: str = "info",
    email: bool = True,
) -> list[Notification]:
    """Put a message in each recipient's inbox and e-mail it. With a `dedup_key`, each recipient gets
    it at most once, ever: reminders sent by retried or repeated jobs are not sent twice.

    `subject` and `body` may be lazy translations; they are rendered in each recipient's language.
    """
    created: list[Notification] = []
    for user in {u.pk: u for u in recipients if u is not None and u.is_active}.values():
        with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
            subj, text = str(subject), str(body)
        try:
            with transaction.atomic():
                note = Notification.objects.create(
                    recipient=user,
                    site=site,
                    level=level,
                    subject=subj[:300],
                    body=text,
                    link=link,
                    dedup_key=dedup_key,
                )
        except IntegrityError:
            continue  # already sent under this key
        created.append(note)
        if email and user.email:
            transaction.on_commit(lambda n=note: _email_notification(n.pk))
    return created


def _email_notification(notification_id: int) -> None:
    from .tasks import notification_email

    notification_email.delay(notification_id)


def notification_email_deliver(*, notification_id: int) -> None:
    note = Notification.objects.select_related("recipient").get(pk=notification_id)
    if note.emailed_at:
        return
    body = note.body + (f"\n\n{note.link}" if note.link else "")
    send_mail(note.subject, body, settings.DEFAULT_FROM_EMAIL, [note.recipient.email])
    Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


def user_record_failed_attempt(*, user: User, what: str) -> None:
    """Count a failed login or signature; lock the account after LOCKOUT_THRESHOLD in a row."""
    with transaction.atomic(), audit_context(reason=what, source="security"):
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.failed_logins += 1
        if locked.failed_logins >= settings.LOCKOUT_THRESHOLD:
            locked.locked_until = timezone.now() + timedelta(minutes=settings.LOCKOUT_MINUTES)
            locked.failed_logins = 0
            log.warning("account %s locked after repeated failures (%s)", locked.username, what)
            user_sessions_end(user=locked)
        locked.save(update_fields=["failed_logins", "locked_until"])
        user.failed_logins, user.locked_until = locked.failed_logins, locked.locked_until


def user_sessions_end(*, user: User) -> int:
    """Sign the user out everywhere: delete every open session of theirs (a locked account keeps none).
    Sessions live in the database and expire after SESSION_IDLE_MINUTES, so the open ones are few."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    ended = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(s.get_decoded().get(SESSION_KEY)) == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def user_record_success(*, user: User) -> None:
    if user.failed_logins:
        with audit_context(reason=_("successful sign-in"), source="security"):
            user.failed_logins = 0
            user.save(update_fields=["failed_logins"])


def user_unlock(*, user: User, by: User, reason: str) -> None:
    """Lift the account lock and the sign-in throttle on the user's name (not on any address)."""
    from axes.utils import reset as axes_reset

    with transaction.atomic(), audit_context(user=by, reason=reason):
        user.failed_logins = 0
        user.locked_until = None
        user.save(update_fields=["failed_logins", "locked_until"])
        axes_reset(username=user.get_username().lower())


def equipment_calibration_record(
    *, equipment: Equipment, user: User, calibrated_on, next_due, certificate_number: str, reason: str
) -> Equipment:
    """Record a calibration of a gauge: the date it was calibrated, its certificate and the next due date.
    The audit trail keeps every earlier calibration (who, when, the old and new dates, why)."""
    policy.check(user, "equipment.calibrate", equipment.site)
    certificate_number = (certificate_number or "").strip()
    reason = (reason or "").strip()
    today = timezone.localdate()
    if not certificate_number:
        raise DomainError(_("Enter the number of the calibration certificate."), field="certificate_number")
    if not reason:
        raise DomainError(_("Give the reason for this change (e.g. yearly calibration)."), field="reason")
    if calibrated_on is None or calibrated_on > today:
        raise DomainError(_("The calibration date cannot be in the future."), field="calibrated_on")
    if next_due is None or next_due <= calibrated_on:
        raise DomainError(_("The next calibration must be due after the calibration date."), field="next_due")
    if next_due <= today:
        raise DomainError(
            _("The next due date %(d)s has already passed: the gauge would still be past calibration.")
            % {"d": next_due.isoformat()},
            field="next_due",
        )
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Equipment.objects.select_for_update().get(pk=equipment.pk)
        if not locked.is_active:
            raise DomainError(_("%(code)s is retired; a retired gauge is not calibrated.") % {"code": locked.code})
        if locked.calibrated_on and calibrated_on < locked.calibrated_on:
            raise DomainError(
                _("%(code)s was already calibrated on %(d)s; record the newer calibration.")
                % {"code": locked.code, "d": locked.calibrated_on.isoformat()},
                field="calibrated_on",
            )
        locked.calibrated_on = calibrated_on
        locked.calibration_due = next_due
        locked.calibration_certificate = certificate_number
        locked.save(reason=reason)
    return locked


def part_standard_cost_set(*, part: Part, cost, user: User, reason: str, valid_from=None) -> Part:
    """Set (or clear, with `cost` None or "") the standard cost of a part from `valid_from` (now) on.

    The part keeps the cost in force now; an append-only PartCost row keeps the history, so scrap and
    rework are priced with the cost in force when they were carried out. Setting the cost it already has
    writes nothing."""
    from .numbers import parse_decimal

    policy.check(user, "masterdata.change")
    reason = (reason or "").strip()
    if cost in (None, ""):
        value = None
    else:
        value = parse_decimal(cost, label=_("standard cost"), max_digits=14, decimal_places=4, minimum=0)
    if not reason:
        raise DomainError(_("Give the reason for the new standard cost (e.g. 2027 cost roll-up)."), field="reason")
    now = timezone.now()
    valid_from = valid_from or now
    if valid_from > now:
        raise DomainError(
            _("A standard cost takes effect now or from a past date, not in the future."), field="valid_from"
        )
    with transaction.atomic(), audit_context(user=user, reason=reason):
        return part_cost_apply(part=part, value=value, user=user, reason=reason, valid_from=valid_from, now=now)


def part_cost_apply(*, part: Part, value, user, reason: str, valid_from=None, now=None) -> Part:
    """The write behind `part_standard_cost_set` and the parts import (checked by their caller, inside its
    transaction and audit context): lock the part, append the history row, keep the cost in force now."""
    now = now or timezone.now()
    valid_from = valid_from or now
    locked = Part.objects.select_for_update().get(pk=part.pk)
    if value == locked.standard_cost and valid_from == now and locked.costs.exists():
        return locked
    PartCost.objects.create(part=locked, standard_cost=value, valid_from=valid_from, set_by=user, reason=reason)
    # A back-dated cost may be followed by a later one: the part keeps the one in force now.
    in_force = locked.costs.order_by("-valid_from", "-pk").first().standard_cost
    if locked.standard_cost != in_force:
        locked.standard_cost = in_force
        locked.save(reason=reason)
    return locked


def calibration_reminders_send(*, today=None) -> int:
    """Remind quality engineers of the site about gauges due for calibration (14 days ahead, and overdue).
    Idempotent: each gauge and due date is announced once per threshold."""

    today = today or timezone.localdate()
    sent = 0
    gauges = Equipment.objects.filter(
        kind=EquipmentKind.GAUGE, is_active=True, calibration_due__lte=today + timedelta(days=14)
    ).select_related("site")
    for gauge in gauges:
        overdue = gauge.calibration_due < today
        recipients = [
            m.user
            for m in Membership.objects.filter(
                site=gauge.site, role__in=[Role.QUALITY_ENGINEER, Role.QUALITY_MANAGER], is_active=True
            ).select_related("user")
        ]
        stage = "overdue" if overdue else "due14"
        subject = (
            gettext_lazy("Gauge %(code)s calibration overdue since %(date)s")
            if overdue
            else gettext_lazy("Gauge %(code)s calibration due on %(date)s")
        )
        sent += len(
            notification_send(
                recipients=recipients,
                subject=LazyFormat(subject, code=gauge.code, date=gauge.calibration_due.isoformat()),
                link=reverse("core:equipment_calibrate", args=[gauge.code]),
                dedup_key=f"calib:{gauge.pk}:{gauge.calibration_due}:{stage}",
                site=gauge.site,
                level="warning",
            )
        )
    return sent


SYSTEM_USERNAME = "system"


def require_transition(obj, method_name: str, message, *, error: type[DomainError] = DomainError) -> None:
    """Refuse, with a message the user can read, a transition the model does not allow from its state.
    `error`: the app's own DomainError subclass, for apps whose callers tell their refusals apart."""
    if not can_proceed(getattr(obj, method_name)):
        raise error(message)


def clean_text(value, limit: int | None = None) -> str:
    """A user's free text as stored: NUL bytes dropped (PostgreSQL refuses them), trimmed, cut to `limit`."""
    text = ("" if value is None else str(value)).replace("\x00", "").strip()
    return text[:limit] if limit else text


def system_actor() -> User:
    """The explicit actor of automatic steps (an alarm opening an NCR, a job closing a record).

    It cannot sign in (no usable password) and holds no membership: services that check permissions
    accept it because it is a superuser; nobody can act as it from a browser."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        with audit_context(reason="system actor created", source="system"):
            user, _created = User.objects.get_or_create(
                username=SYSTEM_USERNAME,
                defaults={"display_name": "System 系统", "is_superuser": True, "is_active": True, "is_staff": False},
            )
            if _created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
    return user


def is_system_actor(user) -> bool:
    """The system actor of automatic steps: it has no usable password, so nobody signs in as it."""
    return getattr(user, "username", None) == SYSTEM_USERNAME and not user.has_usable_password()
