from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.models import Part, Site, User

from .models import Classification, ItemResult, Standard

DATE = forms.DateInput(attrs={"type": "date"})
TEXT = forms.Textarea(attrs={"rows": 2})


def site_people(site):
    return (
        User.objects.filter(is_active=True, memberships__site=site, memberships__is_active=True)
        .exclude(memberships__role="auditor", memberships__site=site)
        .distinct()
        .order_by("username")
    )


class ProgrammeForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)
        self.fields["year"].initial = timezone.localdate().year


class AuditPlanForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    standard = forms.ChoiceField(label=_("Standard"), choices=Standard.choices)
    chapters = forms.CharField(
        label=_("Chapters"),
        required=False,
        max_length=100,
        help_text=_("Optional, comma-separated, e.g. 7, 8.5 (empty: every clause of the standard)"),
    )
    area = forms.CharField(label=_("Audited area / process"), max_length=200)
    area_owner = forms.TypedChoiceField(label=_("Area owner (auditee)"), coerce=int)
    lead_auditor = forms.TypedChoiceField(label=_("Lead auditor"), coerce=int)
    auditors = forms.TypedMultipleChoiceField(label=_("Auditors"), required=False, coerce=int)
    planned_start = forms.DateField(label=_("Planned start"), widget=DATE)
    planned_end = forms.DateField(label=_("Planned end"), widget=DATE)
    scope = forms.CharField(label=_("Scope"), widget=TEXT, required=False)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        # one query for the three people fields (not one per field)
        self.people = {u.pk: u for u in site_people(site)}
        choices = [(pk, u.printed_name) for pk, u in self.people.items()]
        for name in ("area_owner", "lead_auditor", "auditors"):
            self.fields[name].choices = choices

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        d["chapters"] = [c.strip() for c in d.get("chapters", "").split(",") if c.strip()]
        d["area_owner"] = self.people[d["area_owner"]]
        d["lead_auditor"] = self.people[d["lead_auditor"]]
        d["auditors"] = [self.people[pk] for pk in d.get("auditors") or []]
        return d


class ItemRecordForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=[c for c in ItemResult.choices if c[0] != ItemResult.PENDING])
    evidence = forms.CharField(label=_("Evidence notes"), required=False, max_length=4000, widget=TEXT)


class FindingForm(forms.Form):
    classification = forms.ChoiceField(label=_("Classification"), choices=Classification.choices)
    description = forms.CharField(label=_("Finding"), widget=TEXT, max_length=4000)
    evidence = forms.CharField(label=_("Objective evidence"), widget=TEXT, required=False, max_length=4000)
    item = forms.TypedChoiceField(label=_("Checklist item"), required=False, coerce=int, empty_value=None)
    owner = forms.ModelChoiceField(User.objects.none(), label=_("Owner"), required=False)
    due_on = forms.DateField(label=_("Response due on"), required=False, widget=DATE)
    opens = forms.ChoiceField(
        label=_("A nonconformity opens"), choices=[("capa", _("a CAPA")), ("ncr", _("an NCR (about a part)"))]
    )
    part = forms.ModelChoiceField(Part.objects.filter(is_active=True), label=_("Part (for an NCR)"), required=False)

    def __init__(self, *args, audit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = site_people(audit.site)
        self.fields["item"].choices = [("", "—")] + [(i.pk, f"§{i.clause} {i.title_en}") for i in audit.items.all()]


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(User.objects.none(), label=_("Owner"))
    due_on = forms.DateField(label=_("Response due on"), required=False, widget=DATE)
    opens = forms.ChoiceField(
        label=_("A nonconformity opens"), choices=[("capa", _("a CAPA")), ("ncr", _("an NCR (about a part)"))]
    )
    part = forms.ModelChoiceField(Part.objects.filter(is_active=True), label=_("Part (for an NCR)"), required=False)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = site_people(site)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=TEXT, max_length=4000)


class CompleteForm(forms.Form):
    summary = forms.CharField(label=_("Summary"), widget=TEXT, required=False, max_length=8000)


class CloseForm(SignatureForm):
    pass
