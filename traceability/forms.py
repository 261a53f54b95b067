from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.models import Customer, Equipment, Part, Site

from .models import HoldSource


class LotReceiveForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.filter(is_active=True))
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=None)
    supplier_lot_code = forms.CharField(label=_("Supplier's lot number"), max_length=60)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=14, decimal_places=3)
    code = forms.CharField(
        label=_("Lot code"), max_length=60, required=False, help_text=_("Leave empty to number it automatically.")
    )
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, site_ids=(), **kwargs):
        from suppliers.models import Supplier

        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)
        self.fields["supplier"].queryset = Supplier.objects.order_by("code")


class HoldForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=HoldSource.choices, initial=HoldSource.MANUAL)
    reference = forms.CharField(label=_("Reference"), max_length=60, required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ShipForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.filter(is_active=True))
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=14, decimal_places=3)
    delivery_note = forms.CharField(label=_("Delivery note"), max_length=60, required=False)
    serials = forms.CharField(
        label=_("Serial numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: one per line, when the shipment is by serial."),
    )


class ConsumeForm(forms.Form):
    lot_code = forms.CharField(label=_("Consumed lot (scan)"), max_length=60)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=14, decimal_places=3)


class ProduceForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=14, decimal_places=3)
    code = forms.CharField(label=_("Lot code"), max_length=60, required=False)


class WorkOrderForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.filter(is_active=True))
    code = forms.CharField(label=_("Work order / batch"), max_length=40, required=False)
    line = forms.ModelChoiceField(label=_("Line"), queryset=Equipment.objects.filter(kind="line"), required=False)
    quantity_planned = forms.DecimalField(label=_("Planned quantity"), min_value=0, required=False)
    operations = forms.CharField(
        label=_("Operations"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, in order."),
    )

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)


class RecallStartForm(forms.Form):
    lot_code = forms.CharField(label=_("Suspect lot (scan)"), max_length=60, required=False)
    supplier_code = forms.CharField(label=_("or supplier code"), max_length=30, required=False)
    supplier_lot_code = forms.CharField(label=_("and supplier's lot number"), max_length=60, required=False)
    complaint = forms.CharField(label=_("Complaint reference"), max_length=80, required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    is_mock = forms.BooleanField(label=_("Mock recall (drill)"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("lot_code") and not (data.get("supplier_code") and data.get("supplier_lot_code")):
            raise forms.ValidationError(
                _("Scan the suspect lot, or give the supplier code and the supplier's lot number.")
            )
        return data


class RecallApproveForm(SignatureForm):
    pass


class RecoveryForm(forms.Form):
    quantity = forms.DecimalField(label=_("Recovered quantity"), min_value=0, max_digits=14, decimal_places=3)
