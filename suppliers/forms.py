from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core import policy
from qms.core.models import Part, Role, Site, User
from qms.core.uploads import UploadRefused, check_upload

from .models import (
    AuditResult,
    CertificateType,
    ElementStatus,
    PpapReason,
    Supplier,
    SupplierAudit,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SupplierForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason for change"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    class Meta:
        model = Supplier
        fields = [
            "code",
            "name",
            "category",
            "risk_level",
            "sites",
            "country",
            "address",
            "contact_name",
            "contact_email",
            "contact_phone",
            "quality_agreement_on_file",
            "quality_agreement_signed_on",
            "sqe",
            "notes",
        ]
        widgets = {
            "sites": forms.CheckboxSelectMultiple,
            "address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "quality_agreement_signed_on": DATE,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        site_ids = policy.sites_for(user, "suppliers.change")
        self.fields["sites"].queryset = Site.objects.filter(pk__in=site_ids)
        self.fields["sqe"].queryset = User.objects.filter(
            is_active=True,
            memberships__role=Role.SUPPLIER_QUALITY_ENGINEER,
            memberships__site_id__in=site_ids,
            memberships__is_active=True,
        ).distinct()
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("quality_agreement_signed_on") and not data.get("quality_agreement_on_file"):
            self.add_error("quality_agreement_on_file", _("Tick this when the signed agreement is on file."))
        return data


class DecisionForm(SignatureForm):
    """An e-signed status decision: reason always required; an end date for conditional approvals."""

    until = forms.DateField(label=_("Conditional approval ends"), required=False, widget=DATE)

    def __init__(self, *args, needs_until=False, **kwargs):
        kwargs.setdefault("require_reason", True)
        super().__init__(*args, **kwargs)
        if needs_until:
            self.fields["until"].required = True
        else:
            del self.fields["until"]


class AslDecisionForm(DecisionForm):
    evidence = forms.CharField(
        label=_("Qualification evidence"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("PPAP number, first-article report, qualification test report ..."),
    )

    def __init__(self, *args, needs_evidence=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not needs_evidence:
            del self.fields["evidence"]


class CertificateForm(forms.Form):
    cert_type = forms.ChoiceField(label=_("Type"), choices=CertificateType.choices)
    number = forms.CharField(label=_("Certificate number"), max_length=100)
    issuer = forms.CharField(label=_("Issued by"), max_length=200, required=False)
    scope = forms.CharField(label=_("Scope"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    issued_on = forms.DateField(label=_("Issued on"), required=False, widget=DATE)
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=DATE, help_text=_("Last day of validity; empty for no expiry.")
    )
    parts = forms.ModelMultipleChoiceField(
        label=_("Parts covered"),
        queryset=Part.objects.filter(is_active=True),
        required=False,
        help_text=_("Leave empty when the certificate covers everything the supplier delivers."),
    )
    file = forms.FileField(
        label=_("File (PDF, PNG or JPEG, at most 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_upload(upload, use="certificate")
        except UploadRefused as exc:
            raise forms.ValidationError(str(exc))
        upload.seek(0)
        return upload

    def clean(self):
        data = super().clean()
        if data.get("issued_on") and data.get("valid_until") and data["valid_until"] < data["issued_on"]:
            self.add_error("valid_until", _("“Valid until” is before “issued on”."))
        if data.get("issued_on") and data["issued_on"] > timezone.localdate():
            self.add_error("issued_on", _("The issue date cannot be in the future."))
        return data


class CertificateReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("accept", _("Accept")), ("reject", _("Reject"))], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when rejecting: say what is wrong."),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say why the certificate is rejected."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class AuditForm(forms.ModelForm):
    class Meta:
        model = SupplierAudit
        fields = ["audited_on", "auditor", "result", "score", "findings"]
        widgets = {"audited_on": DATE, "findings": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["result"].choices = AuditResult.choices


class AslCreateForm(forms.Form):
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.filter(is_active=True))


class PpapCreateForm(forms.Form):
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.filter(is_active=True))
    level = forms.TypedChoiceField(
        label=_("Submission level"),
        coerce=int,
        initial=3,
        choices=[
            (1, _("Level 1: warrant only (and appearance approval report)")),
            (2, _("Level 2: warrant with product samples and limited supporting data")),
            (3, _("Level 3: warrant with product samples and complete supporting data")),
            (4, _("Level 4: warrant and other requirements as defined by the customer")),
            (5, _("Level 5: complete data reviewed at the supplier's manufacturing location")),
        ],
    )
    reason = forms.ChoiceField(label=_("Reason for submission"), choices=PpapReason.choices)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Document (PDF, PNG, JPEG, Word or Excel, at most 20 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.docx,.xlsx"}),
    )


class ElementReviewForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Review"),
        choices=[(v, lbl) for v, lbl in ElementStatus.choices if v != ElementStatus.PENDING],
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000)
