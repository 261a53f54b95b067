from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.models import Customer, Part, Site, User

from .models import ContainmentKind, DefectCode, DispositionType, MrbRole, MrbVote, NcrSource, Severity

DATE = forms.DateInput(attrs={"type": "date"})


def split_codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", text or "") if c]


def resolve_lots(text: str, site) -> list:
    from traceability.models import Lot

    codes = split_codes(text)
    lots = {lot.code: lot for lot in Lot.objects.filter(code__in=codes, site=site).select_related("supplier")}
    missing = [c for c in codes if c not in lots]
    if missing:
        raise forms.ValidationError(_("No lot at this site has the code %(codes)s.") % {"codes": ", ".join(missing)})
    return [lots[c] for c in codes]


class NcrForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    source = forms.ChoiceField(label=_("Source"), choices=NcrSource.choices)
    source_reference = forms.CharField(label=_("Source reference"), required=False, max_length=100)
    part = forms.ModelChoiceField(Part.objects.filter(is_active=True), label=_("Part"))
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    lots = forms.CharField(label=_("Lot codes"), required=False, help_text=_("Scan or type; separate with spaces."))
    serials = forms.CharField(label=_("Serial numbers"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    quantity_suspect = forms.DecimalField(
        label=_("Quantity suspect"), required=False, min_value=0, help_text=_("Empty: the quantity of the lots.")
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MAJOR)
    defect_codes = forms.ModelMultipleChoiceField(
        DefectCode.objects.filter(is_active=True), label=_("Defect codes"), required=False
    )
    unit_value = forms.DecimalField(label=_("Value per unit"), required=False, min_value=0)

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)

    def clean(self):
        data = super().clean()
        if data.get("site") and data.get("lots"):
            try:
                data["lot_objects"] = resolve_lots(data["lots"], data["site"])
            except forms.ValidationError as exc:
                self.add_error("lots", exc)
        else:
            data["lot_objects"] = []
        return data


class NcrEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    quantity_suspect = forms.DecimalField(label=_("Quantity suspect"), min_value=0)
    quantity_confirmed = forms.DecimalField(label=_("Quantity nonconforming (confirmed)"), min_value=0)
    unit_value = forms.DecimalField(label=_("Value per unit"), min_value=0)
    defect_codes = forms.ModelMultipleChoiceField(
        DefectCode.objects.filter(is_active=True), label=_("Defect codes"), required=False
    )
    reason = forms.CharField(label=_("Reason for change"), max_length=300)


class ContainmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Action"), choices=ContainmentKind.choices)
    owner = forms.ModelChoiceField(User.objects.none(), label=_("Owner"))
    description = forms.CharField(label=_("Description"), required=False)
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DATE)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        from qms.core.selectors import users_who_can

        # people who can act on an NCR at the site: the read-only auditor is not offered
        self.fields["owner"].queryset = users_who_can(site=site, perm="ncr.create")


class ContainmentDoneForm(forms.Form):
    result = forms.CharField(label=_("Result"), widget=forms.Textarea(attrs={"rows": 2}))
    quantity_found = forms.DecimalField(label=_("Quantity found"), required=False, min_value=0)


class DispositionLineForm(forms.Form):
    kind = forms.ChoiceField(label=_("Disposition"), choices=DispositionType.choices)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0)
    lot = forms.ModelChoiceField(queryset=None, label=_("Lot"), required=False)
    instructions = forms.CharField(label=_("Instructions"), required=False)
    concession_expires_on = forms.DateField(label=_("Concession valid until"), required=False, widget=DATE)
    concession_quantity_limit = forms.DecimalField(label=_("Concession quantity limit"), required=False, min_value=0)
    customer_approval_reference = forms.CharField(label=_("Customer approval reference"), required=False)

    def __init__(self, *args, ncr=None, **kwargs):
        super().__init__(*args, **kwargs)
        from traceability.models import Lot

        self.fields["lot"].queryset = Lot.objects.filter(ncr_links__ncr=ncr) if ncr else Lot.objects.none()


class MrbDecisionForm(SignatureForm):
    mrb_role = forms.ChoiceField(label=_("I sign for"), choices=())
    vote = forms.ChoiceField(label=_("Decision"), choices=MrbVote.choices, widget=forms.RadioSelect)

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mrb_role"].choices = [(r, MrbRole(r).label) for r in roles]
        self.fields["reason"].label = _("Comment (required to reject)")
        self.order_fields(["mrb_role", "vote", "reason", "username", "password"])


class ExecuteForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity"), required=False, min_value=0)
    note = forms.CharField(label=_("Note"), required=False)
    return_reference = forms.CharField(label=_("Return shipment reference"), required=False)
    returned_on = forms.DateField(label=_("Shipped back on"), required=False, widget=DATE)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Photo or document"))
    caption = forms.CharField(label=_("Caption"), required=False, max_length=200)


class ComplaintForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    customer = forms.ModelChoiceField(Customer.objects.filter(is_active=True), label=_("Customer"))
    customer_reference = forms.CharField(label=_("Customer reference"), required=False, max_length=100)
    part = forms.ModelChoiceField(Part.objects.filter(is_active=True), label=_("Product"))
    lot = forms.CharField(label=_("Lot code"), required=False)
    serial = forms.CharField(label=_("Serial number"), required=False)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MAJOR)
    quantity_affected = forms.DecimalField(label=_("Quantity affected"), required=False, min_value=0)
    response_due_on = forms.DateField(label=_("Response requested by"), widget=DATE)

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)

    def clean(self):
        data = super().clean()
        data["lot_object"] = None
        if data.get("site") and data.get("lot"):
            try:
                data["lot_object"] = resolve_lots(data["lot"], data["site"])[0]
            except forms.ValidationError as exc:
                self.add_error("lot", exc)
        return data


class RespondForm(forms.Form):
    response = forms.CharField(label=_("Response to the customer"), widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
