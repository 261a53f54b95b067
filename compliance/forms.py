from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .models import SignatureMeaning
from .signatures import SignatureRefused, signature_authenticate
from .signing_gates import signing_findings


class SignatureForm(forms.Form):
    """The reusable signing step. Put it in any decision form (`{% include "compliance/partials/_sign_fields.html" %}`)
    or subclass it to add the decision's own fields. After is_valid(), `form.credential` goes to the service."""

    username = forms.CharField(
        label=_("Username"), required=False, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Your password signs this decision electronically (21 CFR Part 11)."),
    )
    reason = forms.CharField(label=_("Reason / comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    sign_purpose = ""  # e.g. "approve supplier S-001": logged with a failed attempt

    def __init__(
        self, *args, request=None, meaning: str = "", require_reason: bool = False, gate_record=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.request = request
        self.meaning = meaning
        self.gate_record = gate_record  # the record the signature will be on (unsaved is fine): see gate_findings
        self.credential = None
        self.needs_username = request is not None and not request.session.get("signed_once")
        if not self.needs_username:
            del self.fields["username"]
        else:
            self.fields["username"].required = True
        self.fields["reason"].required = require_reason

    @cached_property
    def gate_findings(self) -> list:
        """What the pre-signature checks (the training gate) would say if this person signed now: shown
        before the password is typed; checked again when the signature is recorded."""
        if self.gate_record is None or self.request is None:
            return []
        return signing_findings(meaning=self.meaning, instance=self.gate_record, signer=self.request.user)

    @property
    def meaning_label(self):
        return SignatureMeaning(self.meaning).label if self.meaning in SignatureMeaning.values else ""

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.credential = signature_authenticate(
                user=self.request.user,
                password=data.get("password", ""),
                username=data.get("username"),
                session=self.request.session,
                purpose=self.sign_purpose or self.meaning,
            )
        except SignatureRefused as exc:
            raise forms.ValidationError(str(exc))
        return data


class AuditFilterForm(forms.Form):
    """Filters of the audit-trail page. Every field is optional; dates are whole UTC days."""

    record = forms.CharField(
        label=_("Record"),
        required=False,
        max_length=100,
        help_text=_("code or number, e.g. an NCR, lot or part number"),
    )
    model = forms.ChoiceField(label=_("Record type"), required=False)
    object_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    user = forms.CharField(label=_("User"), required=False, max_length=150, help_text=_("username"))
    date_from = forms.DateField(
        label=_("From (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import audited_model_choices, get_model_or_none, model_verbose

        choices = audited_model_choices()
        given = (self.data.get("model") or "").strip().lower() if self.is_bound else ""
        if given and given not in dict(choices) and get_model_or_none(given) is not None:
            choices.append((given, str(model_verbose(given))))  # any record that called audit_trail.record
        self.fields["model"].choices = [("", _("All record types")), *choices]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("“To” must be on or after “From”."))
        return data

    def filters(self) -> dict:
        """Keyword arguments for selectors.audit_entries (call after is_valid())."""
        data = self.cleaned_data
        return {
            "record": (data.get("record") or "").strip(),
            "model": data.get("model") or "",
            "object_id": data.get("object_id") or "",
            "username": data.get("user") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


class AccessFilterForm(forms.Form):
    """Filters of the access log page."""

    user = forms.CharField(label=_("User"), required=False, max_length=150, help_text=_("username"))
    record = forms.CharField(
        label=_("Record"), required=False, max_length=100, help_text=_("code or number, e.g. an NCR or lot number")
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    date_from = forms.DateField(
        label=_("From (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import AccessKind

        self.fields["kind"].choices = [("", _("All kinds")), *AccessKind.choices]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("“To” must be on or after “From”."))
        return data

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "username": data.get("user") or "",
            "record": data.get("record") or "",
            "kind": data.get("kind") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }

    def report_params(self) -> dict:
        """The same selection as parameters of the "access.log" report."""
        data = self.cleaned_data
        params = {
            "user": data.get("user") or "",
            "record": data.get("record") or "",
            "kind": data.get("kind") or "",
            "from": data["date_from"].isoformat() if data.get("date_from") else "",
            "to": data["date_to"].isoformat() if data.get("date_to") else "",
        }
        return {k: v for k, v in params.items() if v}
