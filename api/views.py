"""Pages of the API app: the schema and its interactive docs, and the administrator's integrations page
(service accounts, tokens shown once, revoking, webhook subscriptions and their delivery log)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from drf_spectacular.views import SpectacularAPIView

from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.views_auth import require

from . import services, webhooks
from .forms import AccountForm, ReasonForm, TokenForm, WebhookForm
from .models import ApiToken, ServiceAccount, WebhookDelivery, WebhookSubscription
from .permissions import DeclaredPermission
from .selectors import manageable_accounts


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema (YAML; `?format=json` for JSON), for any signed-in person or token."""

    qms_permission = "api.view"
    permissions = {"GET": "api.view"}
    permission_classes = [DeclaredPermission]


schema = SchemaView.as_view()


@require("api.view")
def docs(request):
    return render(request, "api/docs.html", {})


def _manageable_sites(user) -> list[int]:
    return policy.sites_for(user, "api.manage")


def _account_or_404(request, pk) -> ServiceAccount:
    return get_object_or_404(manageable_accounts(request.user).select_related("user", "owner"), pk=pk)


@require("api.manage")
def accounts(request):
    rows = []
    accounts = manageable_accounts(request.user).select_related("user")
    for account in accounts.prefetch_related("user__memberships__site", "tokens").order_by("user__username"):
        sites = {m.site for m in account.user.memberships.all() if m.is_active}
        rows.append(
            {
                "account": account,
                "sites": sorted(s.code for s in sites),
                "roles": sorted({m.get_role_display() for m in account.user.memberships.all() if m.is_active}),
                "active_tokens": sum(1 for t in account.tokens.all() if t.state() == "active"),
            }
        )
    return render(request, "api/accounts.html", {"rows": rows})


@require("api.manage")
@create_once
def account_create(request):
    form = AccountForm(request.POST or None, site_ids=_manageable_sites(request.user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            account = services.service_account_create(
                username=d["username"],
                system=d["system"],
                description=d["description"],
                roles={site: d["roles"] for site in d["sites"]},
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Service account %(n)s created. Issue a token for it below.") % {"n": account.name}
            )
            return redirect("api:account", pk=account.pk)
    return render(request, "api/form.html", {"form": form, "title": _("New service account")})


SHOWN = "api_shown_once"


@require("api.manage")
@require_http_methods(["GET", "POST"])
@create_once
def account_detail(request, pk):
    account = _account_or_404(request, pk)
    # A new token or webhook secret is shown once: held in the session until this page shows it.
    shown = request.session.pop(SHOWN, None) if request.method == "GET" else None
    shown = shown if isinstance(shown, dict) and shown.get("account") == account.pk else {}
    shown_token, shown_secret = shown.get("token"), shown.get("secret")
    token_form, webhook_form = TokenForm(), WebhookForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "token":
                token_form = TokenForm(request.POST)
                if token_form.is_valid():
                    _token, raw = services.token_create(
                        account=account,
                        user=request.user,
                        name=token_form.cleaned_data["name"],
                        expires_in_days=token_form.cleaned_data["expires_in_days"],
                    )
                    request.session[SHOWN] = {"account": account.pk, "token": raw}
                    return redirect("api:account", pk=account.pk)
            elif action == "revoke":
                token = get_object_or_404(ApiToken, pk=request.POST.get("token") or 0, account=account)
                form = ReasonForm(request.POST)
                if not form.is_valid():
                    raise DomainError(_("Give the reason for revoking the token."))
                services.token_revoke(token=token, user=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("Token revoked."))
                return redirect("api:account", pk=account.pk)
            elif action == "webhook":
                webhook_form = WebhookForm(request.POST)
                if webhook_form.is_valid():
                    _sub, secret = webhooks.subscription_create(
                        account=account,
                        event=webhook_form.cleaned_data["event"],
                        url=webhook_form.cleaned_data["url"],
                        user=request.user,
                    )
                    request.session[SHOWN] = {"account": account.pk, "secret": secret}
                    return redirect("api:account", pk=account.pk)
            elif action in ("webhook_disable", "webhook_enable"):
                sub = get_object_or_404(WebhookSubscription, pk=request.POST.get("subscription") or 0, account=account)
                webhooks.subscription_set_active(
                    subscription=sub, active=action == "webhook_enable", user=request.user, reason=_("by hand")
                )
                return redirect("api:account", pk=account.pk)
            elif action == "replay":
                delivery = get_object_or_404(
                    WebhookDelivery, pk=request.POST.get("delivery") or 0, subscription__account=account
                )
                webhooks.delivery_replay(delivery=delivery, user=request.user)
                messages.success(request, _("The event is sent again."))
                return redirect("api:account", pk=account.pk)
            elif action == "deactivate":
                form = ReasonForm(request.POST)
                if not form.is_valid():
                    raise DomainError(_("Give the reason."))
                services.service_account_deactivate(
                    account=account, user=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _("Service account switched off; its tokens no longer work."))
                return redirect("api:account", pk=account.pk)
            else:
                raise Http404
        except DomainError as exc:
            messages.error(request, str(exc))
    tokens = list(account.tokens.select_related("use", "created_by").order_by("-created_at"))
    subs = list(account.webhooks.order_by("event", "pk"))
    deliveries = list(WebhookDelivery.objects.filter(subscription__account=account).select_related("subscription")[:50])
    return render(
        request,
        "api/account.html",
        {
            "account": account,
            "memberships": list(account.user.memberships.select_related("site").order_by("site__code", "role")),
            "tokens": tokens,
            "subscriptions": subs,
            "deliveries": deliveries,
            "token_form": token_form,
            "webhook_form": webhook_form,
            "shown_token": shown_token,
            "shown_secret": shown_secret,
            "reason_form": ReasonForm(),
        },
    )
