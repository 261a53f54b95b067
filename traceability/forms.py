from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.models import Customer, Equipment, Part, Site, User
from qms.core.numbers import NumberError, parse_decimal

from .models import HoldSource, Lot, Operation


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
        # Only suppliers serving a site the user may act for here (the site scope is only the floor).
        serving = Supplier.sites.through.objects.filter(site_id__in=site_ids).values("supplier_id")
        self.fields["supplier"].queryset = Supplier.objects.filter(pk__in=serving).order_by("code")


class HoldForm(forms.Form):
    # A hold placed by hand is a manual hold (its reference may name the NCR or complaint behind it): holds of
    # an NCR, an inspection, a recall or expiry are placed and lifted by their cause's service.
    source = forms.ChoiceField(
        label=_("Source"), choices=[(HoldSource.MANUAL, HoldSource.MANUAL.label)], initial=HoldSource.MANUAL
    )
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
    lot_code = forms.CharField(
        label=_("Consumed lot (scan)"),
        max_length=60,
        help_text=_("Scan the lot or serial label, or type its code."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=14, decimal_places=3)
    into = forms.ModelChoiceField(label=_("Into output lot"), queryset=Lot.objects.none())

    def __init__(self, *args, work_order=None, **kwargs):
        super().__init__(*args, **kwargs)
        if work_order is not None:
            self.fields["into"].queryset = work_order.output_lots.order_by("code")
        self.fields["into"].label_from_instance = lambda obj: obj.code


PARAMETER_HELP = _(
    "One per line: name; value; unit; lower limit; upper limit (unit and limits may be empty). "
    "Example: Temperature; 182.5; °C; 175; 190"
)


class ProductionRecordForm(forms.Form):
    """5M1E of a run. The line is the work order's; the equipment may be the line or a machine on it."""

    operation = forms.ModelChoiceField(label=_("Operation"), queryset=Operation.objects.none(), required=False)
    shift = forms.CharField(label=_("Shift"), max_length=20, required=False)
    operators = forms.ModelMultipleChoiceField(
        label=_("Operators"), queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    equipment = forms.ModelChoiceField(label=_("Line / equipment"), queryset=Equipment.objects.none(), required=False)
    started_at = forms.DateTimeField(
        label=_("Started at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    ended_at = forms.DateTimeField(
        label=_("Ended at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    parameters = forms.CharField(
        label=_("Process parameters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PARAMETER_HELP,
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, work_order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operation"].queryset = work_order.operations.order_by("sequence")
        self.fields["operation"].label_from_instance = lambda op: f"{op.sequence} {op.name}"
        self.fields["operators"].queryset = (
            User.objects.filter(is_active=True, memberships__site=work_order.site_id, memberships__is_active=True)
            .distinct()
            .order_by("username")
        )
        self.fields["equipment"].queryset = Equipment.objects.filter(site=work_order.site_id, is_active=True).order_by(
            "code"
        )
        if work_order.line_id and not self.is_bound:
            self.initial.setdefault("equipment", work_order.line_id)

    def clean_parameters(self):
        rows = []
        for n, line in enumerate(self.cleaned_data.get("parameters", "").splitlines(), start=1):
            if not line.strip():
                continue
            cells = [c.strip() for c in line.split(";")]
            cells += [""] * (5 - len(cells))
            if len(cells) > 5 or not cells[0] or not cells[1]:
                raise forms.ValidationError(
                    _("Line %(n)s: write name; value; unit; lower limit; upper limit.") % {"n": n}
                )
            try:
                # Parameters are stored as numeric(14, 4).
                value, lower, upper = (
                    parse_decimal(c, label=cells[0][:80], max_digits=14, decimal_places=4) if c else None
                    for c in (cells[1], cells[3], cells[4])
                )
            except NumberError as exc:
                raise forms.ValidationError(_("Line %(n)s: %(error)s") % {"n": n, "error": exc.message}) from None
            if lower is not None and upper is not None and lower > upper:
                raise forms.ValidationError(_("Line %(n)s: the lower limit is above the upper limit.") % {"n": n})
            rows.append(
                {
                    "name": cells[0][:80],
                    "value": value,
                    "unit": cells[2][:20],
                    "lower_limit": lower,
                    "upper_limit": upper,
                }
            )
        return rows


class SerialsForm(forms.Form):
    serials = forms.CharField(
        label=_("Serial numbers"),
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text=_("One per line; scan or type them."),
    )

    def clean_serials(self):
        return [s.strip() for s in self.cleaned_data["serials"].splitlines() if s.strip()]


class ProduceForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=14, decimal_places=3)
    code = forms.CharField(label=_("Lot code"), max_length=60, required=False)


class WorkOrderForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.filter(is_active=True))
    code = forms.CharField(label=_("Work order / batch"), max_length=40, required=False)
    # Set per request: a class-level queryset of a site-scoped model would be built outside any scope.
    line = forms.ModelChoiceField(label=_("Line"), queryset=Equipment.objects.none(), required=False)
    quantity_planned = forms.DecimalField(
        label=_("Planned quantity"), min_value=0, max_digits=14, decimal_places=3, required=False
    )
    operations = forms.CharField(
        label=_("Operations"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, in order."),
    )

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)
        self.fields["line"].queryset = Equipment.objects.filter(kind="line", site__in=site_ids)


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


class LotImportForm(forms.Form):
    """The lots' import page: a file, "check only", and for people with release authority the history
    import of released lots, e-signed (password re-entry, meaning "released") when it is really written."""

    file = forms.FileField(label=_("File (CSV or XLSX)"))
    dry_run = forms.BooleanField(label=_("Check only (dry run), write nothing"), required=False, initial=True)
    release_as_history = forms.BooleanField(
        label=_("History import: import the lots marked released as released"),
        required=False,
        help_text=_(
            "For lots released in your previous system. You sign the import with the meaning “released”; you "
            "need release authority at the site of every released row. Each lot's release is recorded as a "
            "history import."
        ),
    )
    username = forms.CharField(
        label=_("Username"), required=False, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed for a history import: your password signs it electronically (21 CFR Part 11)."),
    )

    meaning = "released"

    def __init__(self, *args, request=None, may_release: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.credential = None
        self.needs_username = request is not None and not request.session.get("signed_once")
        if not may_release:
            for name in ("release_as_history", "username", "password"):
                del self.fields[name]
        elif not self.needs_username:
            del self.fields["username"]

    @property
    def meaning_label(self):
        from compliance.models import SignatureMeaning

        return SignatureMeaning(self.meaning).label

    def clean(self):
        from compliance.signatures import SignatureRefused, signature_authenticate

        data = super().clean()
        if self.errors or not data.get("release_as_history") or data.get("dry_run"):
            return data
        try:
            self.credential = signature_authenticate(
                user=self.request.user,
                password=data.get("password", ""),
                username=data.get("username"),
                session=self.request.session,
                purpose="history import",
            )
        except SignatureRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return data
