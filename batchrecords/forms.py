from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.models import Part, Site, User

from .models import DeviationClass, LotImpact, ParameterKind

TEXT = forms.Textarea(attrs={"rows": 2})
NUMBER = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class MbrCreateForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    part = forms.ModelChoiceField(Part.objects.none(), label=_("Product"))
    title = forms.CharField(label=_("Title"), max_length=200)
    theoretical_yield = forms.CharField(label=_("Theoretical yield"), max_length=30, widget=NUMBER)
    batch_size = forms.CharField(label=_("Batch size"), max_length=30, required=False, widget=NUMBER)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    yield_min_percent = forms.CharField(label=_("Lowest acceptable yield (%)"), initial="95", max_length=10)
    yield_max_percent = forms.CharField(label=_("Highest acceptable yield (%)"), initial="102", max_length=10)
    notes = forms.CharField(label=_("Notes"), widget=TEXT, required=False)

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)
        self.fields["part"].queryset = Part.objects.filter(is_active=True).order_by("number")


class StepForm(forms.Form):
    title = forms.CharField(label=_("Step"), max_length=200)
    instructions = forms.CharField(label=_("Instructions"), widget=TEXT, required=False)
    is_critical = forms.BooleanField(label=_("Critical step (second-person verification)"), required=False)


class ParameterForm(forms.Form):
    step = forms.ModelChoiceField(None, label=_("Step"))
    kind = forms.ChoiceField(label=_("Kind"), choices=ParameterKind.choices)
    name = forms.CharField(label=_("Parameter"), max_length=120, required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    lower_limit = forms.CharField(label=_("Lower limit"), max_length=30, required=False, widget=NUMBER)
    upper_limit = forms.CharField(label=_("Upper limit"), max_length=30, required=False, widget=NUMBER)
    characteristic = forms.ModelChoiceField(
        None,
        label=_("Inspection characteristic (in-process control)"),
        required=False,
        help_text=_("Its limits and unit are used when you give none."),
    )

    def __init__(self, *args, mbr, **kwargs):
        from inspection.models import Characteristic

        super().__init__(*args, **kwargs)
        self.fields["step"].queryset = mbr.steps.order_by("sequence")
        self.fields["characteristic"].queryset = Characteristic.objects.filter(
            plan__site_id=mbr.site_id, plan__part_id=mbr.part_id
        ).select_related("plan")


class MaterialForm(forms.Form):
    part = forms.ModelChoiceField(Part.objects.none(), label=_("Material"))
    quantity = forms.CharField(label=_("Quantity"), max_length=30, widget=NUMBER)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    tolerance_percent = forms.CharField(label=_("Tolerance (± %)"), max_length=10, initial="0")
    step = forms.ModelChoiceField(None, label=_("Step"), required=False)

    def __init__(self, *args, mbr, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].queryset = Part.objects.filter(is_active=True).exclude(pk=mbr.part_id).order_by("number")
        self.fields["step"].queryset = mbr.steps.order_by("sequence")


class EbrCreateForm(forms.Form):
    work_order = forms.ModelChoiceField(None, label=_("Work order (running)"))
    lot_code = forms.CharField(
        label=_("Batch lot number"), max_length=60, required=False, help_text=_("Empty: a number is assigned.")
    )
    lot_quantity = forms.CharField(
        label=_("Batch quantity"),
        max_length=30,
        required=False,
        widget=NUMBER,
        help_text=_("Empty: the planned quantity."),
    )

    def __init__(self, *args, site_ids=(), **kwargs):
        from traceability.models import WorkOrder, WorkOrderStatus

        super().__init__(*args, **kwargs)
        self.fields["work_order"].queryset = (
            WorkOrder.objects.filter(site_id__in=site_ids, status=WorkOrderStatus.RUNNING, batch_record__isnull=True)
            .select_related("part")
            .order_by("-created_at")
        )


class StepPerformForm(SignatureForm):
    """The operator's entry of one step: its values, when it was done, and the signature."""

    performed_at = forms.DateTimeField(
        label=_("Performed at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: now. An earlier time makes this a late entry that needs its reason."),
    )
    late_reason = forms.CharField(label=_("Reason for a late entry"), required=False, widget=TEXT)
    comment = forms.CharField(label=_("Comment"), required=False, widget=TEXT)

    field_order = ["performed_at", "late_reason", "comment", "username", "password", "reason"]

    def __init__(self, *args, step, parameters=(), **kwargs):
        super().__init__(*args, meaning="authored", **kwargs)
        del self.fields["reason"]
        self.step = step
        self.parameters = list(parameters)
        self.value_fields = []
        for p in self.parameters:
            name = f"value_{p.pk}"
            self.fields[name] = forms.CharField(
                label=f"{p.name} ({p.limits_text()})",
                max_length=60,
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "decimal",
                        "autocomplete": "off",
                        "class": "batch-value",
                        "data-low": "" if p.lower_limit is None else str(p.lower_limit),
                        "data-high": "" if p.upper_limit is None else str(p.upper_limit),
                    }  # noqa: E501
                ),
            )
            self.value_fields.append(self[name])
        self.sign_purpose = f"batch step {step.pk}"

    def values(self) -> dict:
        return {p.pk: self.cleaned_data.get(f"value_{p.pk}") for p in self.parameters}

    def clean_performed_at(self):
        value = self.cleaned_data.get("performed_at")
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class DispenseForm(forms.Form):
    material = forms.ModelChoiceField(None, label=_("Material"))
    lot_code = forms.CharField(
        label=_("Lot (scan)"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "data-scan": "1"}),
    )
    quantity = forms.CharField(label=_("Quantity"), max_length=30, widget=NUMBER)

    def __init__(self, *args, ebr, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].queryset = ebr.mbr.materials.select_related("part").order_by("pk")
        self.fields["material"].label_from_instance = lambda m: (
            f"{m.part.number} {m.part.name} · {m.quantity.normalize():f} {m.unit} ± {m.tolerance_percent.normalize():f} %"
        )


class YieldForm(forms.Form):
    actual_yield = forms.CharField(label=_("Actual yield"), max_length=30, widget=NUMBER)
    note = forms.CharField(
        label=_("Reconciliation note"),
        required=False,
        widget=TEXT,
        help_text=_("Required when the yield is outside its limits."),
    )


class DeviationCreateForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("What happened"), widget=TEXT, required=False)
    classification = forms.ChoiceField(label=_("Classification"), choices=DeviationClass.choices)
    immediate_action = forms.CharField(label=_("Immediate action"), widget=TEXT, required=False)
    lot_codes = forms.CharField(
        label=_("Affected lots"),
        required=False,
        help_text=_("Lot codes separated by spaces or commas."),
        max_length=2000,
    )

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)

    def clean_lot_codes(self):
        import re

        return [c for c in re.split(r"[\s,;]+", self.cleaned_data.get("lot_codes") or "") if c][:50]


class DeviationAssessForm(forms.Form):
    classification = forms.ChoiceField(label=_("Classification"), choices=DeviationClass.choices)
    impact_assessment = forms.CharField(label=_("Impact assessment"), widget=TEXT)
    root_cause = forms.CharField(label=_("Root cause"), widget=TEXT, required=False)
    capa_not_needed_reason = forms.CharField(label=_("Why no CAPA is needed"), widget=TEXT, required=False)
    reason = forms.CharField(label=_("Reason for the change"), required=False)

    def __init__(self, *args, rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = list(rows)
        self.lot_fields = []
        for row in self.rows:
            self.fields[f"impact_{row.pk}"] = forms.ChoiceField(
                label=_("Lot %(lot)s") % {"lot": row.lot.code}, choices=LotImpact.choices, initial=row.impact
            )
            self.fields[f"note_{row.pk}"] = forms.CharField(
                label=_("Note on lot %(lot)s") % {"lot": row.lot.code}, required=False, max_length=300, initial=row.note
            )
            self.lot_fields.append((row, self[f"impact_{row.pk}"], self[f"note_{row.pk}"]))

    def lot_impacts(self) -> dict:
        return {
            row.pk: (self.cleaned_data[f"impact_{row.pk}"], self.cleaned_data.get(f"note_{row.pk}", ""))
            for row in self.rows
        }


class DeviationLotForm(forms.Form):
    lot_code = forms.CharField(label=_("Lot"), max_length=64)
    impact = forms.ChoiceField(label=_("Impact"), choices=LotImpact.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class DeviationCapaForm(forms.Form):
    owner = forms.ModelChoiceField(User.objects.none(), label=_("CAPA owner"))
    capa_code = forms.CharField(label=_("or link an existing CAPA (number)"), required=False, max_length=30)

    def __init__(self, *args, site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            User.objects.filter(is_active=True, memberships__site=site, memberships__is_active=True)
            .exclude(memberships__role="auditor", memberships__site=site)
            .distinct()
            .order_by("username")
        )
