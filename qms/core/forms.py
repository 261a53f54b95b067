from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from .models import User
from .services import user_record_failed_attempt, user_record_success


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        username = self.cleaned_data.get("username", "")
        password = self.cleaned_data.get("password", "")
        if not username or not password:
            return self.cleaned_data
        known = User.objects.filter(username__iexact=username).first()
        if self.request is not None and AxesProxyHandler.is_locked(self.request, {"username": username}):
            # The throttle: checked before the account so that known and unknown names answer alike.
            raise forms.ValidationError(throttled_message())
        if known and known.is_locked:
            raise forms.ValidationError(
                _(
                    "This account is locked after repeated failed attempts until %(until)s UTC. Wait, or ask an administrator to unlock it."
                ),
                params={"until": known.locked_until.strftime("%Y-%m-%d %H:%M")},
            )
        user = authenticate(self.request, username=known.username if known else username, password=password)
        if user is None:
            if known:
                user_record_failed_attempt(user=known, what="failed sign-in")
                if known.is_locked:
                    raise forms.ValidationError(
                        _(
                            "Too many failed attempts: the account is now locked for a while. Ask an administrator to unlock it."
                        )
                    )
            raise forms.ValidationError(_("Username or password is wrong. Check both and try again."))
        user_record_success(user=user)
        self.user = user
        return self.cleaned_data


def throttled_message():
    from django.conf import settings

    return _(
        "Too many failed sign-in attempts from this address or for this username. Wait %(minutes)s minutes and try again, or reset your password."
    ) % {"minutes": settings.LOCKOUT_MINUTES}


class QmsPasswordResetForm(PasswordResetForm):
    """Django's reset form; the mail goes out through the job outbox (never lost when SMTP or the broker is
    away, and the answer takes the same time whether the address exists or not)."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        from django.template import loader

        from .tasks import mail_send

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        mail_send.delay(subject=subject, body=body, to=[to_email])


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"))
    file = forms.FileField(label=_("File (CSV or XLSX)"))
    dry_run = forms.BooleanField(label=_("Check only (dry run), write nothing"), required=False, initial=True)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds


class CalibrationForm(forms.Form):
    calibrated_on = forms.DateField(label=_("Calibrated on"), widget=forms.DateInput(attrs={"type": "date"}))
    certificate_number = forms.CharField(label=_("Calibration certificate number"), max_length=100)
    next_due = forms.DateField(label=_("Next calibration due"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason for change"), max_length=500)


class PartCostForm(forms.Form):
    standard_cost = forms.CharField(
        label=_("Standard cost per unit"),
        max_length=30,
        required=False,
        help_text=_("Leave empty when the cost is not known: scrap and rework of the part are then not priced."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: from now on. A past date re-prices scrap and rework carried out since then."),
    )
    reason = forms.CharField(label=_("Reason for change"), max_length=500)
