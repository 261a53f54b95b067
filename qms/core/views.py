import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import importing, policy
from .errors import DomainError
from .forms import CalibrationForm, ImportForm, LoginForm, PartCostForm, QmsPasswordResetForm, throttled_message
from .importing import import_file
from .models import Customer, Equipment, Notification, Part
from .registries import registry
from .services import equipment_calibration_record, notification_mark_read, part_standard_cost_set
from .views_auth import public, require


@public
def login_view(request):
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        request.session["signed_once"] = False  # the first e-signature of a session asks for the username too
        nxt = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
            nxt = settings.LOGIN_REDIRECT_URL
        response = redirect(nxt or settings.LOGIN_REDIRECT_URL)
        # A language chosen on the login page wins; otherwise the user's own preference applies.
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and form.user.preferred_language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                form.user.preferred_language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
    return _login_page(request, form)


def _login_page(request, form, status=200):
    demo_logins = None
    if settings.QMS_DEMO:
        from .demo import DEMO_LOGINS, DEMO_PASSWORD

        demo_logins = {"users": DEMO_LOGINS, "password": DEMO_PASSWORD}
    return render(request, "core/login.html", {"form": form, "demo": demo_logins}, status=status)


def login_locked_out(request, original_response=None, credentials=None):
    """Axes' answer when an attempt reaches the throttle: the sign-in page with a message, 429."""
    form = LoginForm(request)
    form.cleaned_data = {}
    form.add_error(None, throttled_message())
    response = _login_page(request, form, status=429)
    response["Retry-After"] = str(settings.LOCKOUT_MINUTES * 60)
    return response


def _reset_throttled(request) -> bool:
    from .security import client_ip, rate_limited

    email = (request.POST.get("email") or "").strip().lower()
    per_hour = settings.PASSWORD_RESET_PER_HOUR
    by_ip = rate_limited(f"pwreset-ip:{client_ip(request) or 'unknown'}", limit=per_hour, window_seconds=3600)
    by_email = bool(email) and rate_limited(f"pwreset-mail:{email}", limit=per_hour, window_seconds=3600)
    return by_ip or by_email


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "core/password_reset_form.html"
    email_template_name = "core/password_reset_email.txt"
    subject_template_name = "core/password_reset_subject.txt"
    form_class = QmsPasswordResetForm
    success_url = reverse_lazy("core:password_reset_done")

    def post(self, request, *args, **kwargs):
        if _reset_throttled(request):
            # Same page as a success: says nothing about the address, sends nothing more.
            return redirect(self.success_url)
        return super().post(request, *args, **kwargs)


password_reset = public(PasswordResetView.as_view())
password_reset_done = public(auth_views.PasswordResetDoneView.as_view(template_name="core/password_reset_done.html"))
password_reset_confirm = public(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="core/password_reset_confirm.html", success_url=reverse_lazy("core:password_reset_complete")
    )
)
password_reset_complete = public(
    auth_views.PasswordResetCompleteView.as_view(template_name="core/password_reset_complete.html")
)


@require_POST
@public
def logout_view(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require("portal.view")
def inbox(request):
    if request.method == "POST":
        notification_mark_read(user=request.user, notification_id=request.POST.get("id") or None)
        return redirect("core:inbox")
    page = Paginator(Notification.objects.filter(recipient=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "core/inbox.html", {"page_obj": page})


MASTER_DATA = {
    "parts": (
        Part,
        ["number", "revision", "name", "part_type", "unit", "shelf_life_days", "is_safety_critical", "standard_cost"],
    ),
    "customers": (Customer, ["code", "name", "country", "language", "is_automotive", "email"]),
    "equipment": (Equipment, ["code", "name", "kind", "site", "calibration_due"]),
}


@require("masterdata.view")
def master_data(request, kind="parts"):
    if kind not in MASTER_DATA:
        raise Http404(_("There is no master data list “%(kind)s”.") % {"kind": kind[:40]})
    model, columns = MASTER_DATA[kind]
    qs = model.objects.all()
    if kind == "equipment":
        qs = qs.filter(site__in=policy.sites_for(request.user, "masterdata.view")).select_related("site")
    q = request.GET.get("q", "").strip()
    if q:
        field = "number" if kind == "parts" else "code"
        qs = qs.filter(**{f"{field}__icontains": q}) | qs.filter(name__icontains=q)
    page = Paginator(qs.order_by(*model._meta.ordering), 50).get_page(request.GET.get("page"))
    calibrate_sites = set(policy.sites_for(request.user, "equipment.calibrate")) if kind == "equipment" else set()
    may_cost = kind == "parts" and policy.can(request.user, "masterdata.change")
    rows = [
        {
            "cells": [
                (c, getattr(o, f"get_{c}_display", None) and getattr(o, f"get_{c}_display")() or getattr(o, c))
                for c in columns
            ],
            "calibrate_url": reverse("core:equipment_calibrate", args=[o.code])
            if o.pk and getattr(o, "site_id", None) in calibrate_sites
            else "",
            "cost_url": reverse("core:part_cost", args=[o.pk]) if may_cost else "",
        }
        for o in page
    ]
    headers = [model._meta.get_field(c).verbose_name for c in columns]
    return render(
        request,
        "core/master_data.html",
        {
            "kind": kind,
            "kinds": list(MASTER_DATA),
            "page_obj": page,
            "rows": rows,
            "headers": headers,
            "title": model._meta.verbose_name_plural,
            "q": q,
            "may_import": policy.can(request.user, "masterdata.import"),
            "currency": settings.QMS_CURRENCY if kind == "parts" else "",
        },
    )


@require("masterdata.import")
def import_view(request):
    kinds = [(k, str(v.label)) for k, v in sorted(registry.import_kinds.items())]
    form = ImportForm(
        request.POST or None, request.FILES or None, kinds=kinds, initial={"kind": request.GET.get("kind", "parts")}
    )
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = import_file(
            kind=form.cleaned_data["kind"],
            filename=upload.name,
            # Never more than one byte past the limit is read: import_file refuses it with a message.
            content=upload.read(importing.max_bytes() + 1),
            dry_run=form.cleaned_data["dry_run"],
            user=request.user,
        )
        if report.ok and not report.dry_run:
            messages.success(request, _("Imported %(n)s rows.") % {"n": report.row_count})
        elif report.ok:
            messages.info(
                request, _("All %(n)s rows are valid. Untick “dry run” to import them.") % {"n": report.row_count}
            )
        else:
            messages.error(request, _("Nothing was imported: fix the rows listed below and upload the file again."))
    columns = {k: v.columns_help() for k, v in registry.import_kinds.items()}
    return render(request, "core/import.html", {"form": form, "report": report, "columns": columns})


@require("equipment.calibrate")
def equipment_calibrate(request, code):
    """Record a calibration of a gauge (new due date, certificate, reason): the way back into service for
    a gauge the tablet refuses."""
    equipment = get_object_or_404(
        Equipment.objects.select_related("site"),
        code=code,
        site__in=policy.sites_for(request.user, "equipment.calibrate"),
    )
    form = CalibrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            equipment_calibration_record(equipment=equipment, user=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Calibration of %(code)s recorded; next due %(due)s.")
                % {"code": equipment.code, "due": form.cleaned_data["next_due"].isoformat()},
            )
            nxt = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                nxt = reverse("core:master_data_kind", args=["equipment"])
            return redirect(nxt)
    return render(request, "core/equipment_calibrate.html", {"equipment": equipment, "form": form})


@require("masterdata.change")
def part_cost(request, pk):
    """Set a part's standard cost (it prices scrap and rework from then on), with its history."""
    part = get_object_or_404(Part, pk=pk)
    form = PartCostForm(request.POST or None, initial={"standard_cost": part.standard_cost})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        valid_from = None
        if d["valid_from"]:
            tz = timezone.get_current_timezone()
            valid_from = datetime.datetime.combine(d["valid_from"], datetime.time.min, tzinfo=tz)
        try:
            part_standard_cost_set(
                part=part, cost=d["standard_cost"], user=request.user, reason=d["reason"], valid_from=valid_from
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else "standard_cost", exc.message)
        else:
            messages.success(request, _("Standard cost of %(part)s saved.") % {"part": part.number})
            return redirect("core:part_cost", part.pk)
    history = part.costs.select_related("set_by")[:50]
    return render(
        request,
        "core/part_cost.html",
        {"part": part, "form": form, "history": history, "currency": settings.QMS_CURRENCY},
    )
