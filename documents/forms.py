from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.models import Role, Site, User
from qms.core.selectors import users_who_can, users_who_decide

from .models import AssessmentResult, Document, DocumentType, GatedDecision, GateMode, TrainingMethod

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WORK_ROLES = [(v, label) for v, label in Role.choices if v != Role.AUDITOR]


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.printed_name


class UsersChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.printed_name


class DocumentForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    doc_type = forms.ChoiceField(label=_("Type"), choices=DocumentType.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    number = forms.CharField(
        label=_("Document number"),
        max_length=40,
        required=False,
        help_text=_("empty = the next number for this type and site, e.g. BRG-SOP-0004"),
    )
    owner = UserChoice(label=_("Owner"), queryset=User.objects.none())
    review_period_months = forms.IntegerField(label=_("Review every (months)"), min_value=1, max_value=120, initial=24)
    distribution_roles = forms.MultipleChoiceField(
        label=_("Distribution (roles)"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("none ticked = everyone at the site"),
    )
    training_roles = forms.MultipleChoiceField(
        label=_("Training required for (roles)"),
        choices=WORK_ROLES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)
        self.fields["owner"].queryset = (
            User.objects.filter(is_active=True, memberships__site__in=site_ids, memberships__is_active=True)
            .exclude(username="system")
            .distinct()
            .order_by("username")
        )


class DocumentEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    owner = UserChoice(label=_("Owner"), queryset=User.objects.none())
    review_period_months = forms.IntegerField(label=_("Review every (months)"), min_value=1, max_value=120)
    distribution_roles = forms.MultipleChoiceField(
        label=_("Distribution (roles)"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(label=_("Reason for change"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users_who_can(site=site, perm="documents.view").exclude(username="system")


class VersionForm(forms.Form):
    label = forms.CharField(
        label=_("Version"), max_length=20, required=False, help_text=_("empty = the next number (1, 2, 3 …)")
    )
    change_summary = forms.CharField(label=_("What changed"), widget=forms.Textarea(attrs={"rows": 3}))
    file = forms.FileField(
        label=_("File"), required=False, help_text=_("PDF, Word (DOCX), Excel (XLSX), PNG or JPEG; at most 20 MB")
    )


class VersionEditForm(forms.Form):
    change_summary = forms.CharField(label=_("What changed"), widget=forms.Textarea(attrs={"rows": 3}))
    file = forms.FileField(label=_("Replace the file"), required=False)


class SubmitForm(forms.Form):
    reviewers = UsersChoice(label=_("Reviewers"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, version=None, **kwargs):
        super().__init__(*args, **kwargs)
        # those the site gives the review to (its decision authority), as version_submit checks
        self.fields["reviewers"].queryset = (
            users_who_decide(site=version.document.site, decision="document.review")
            .exclude(pk=version.author_id)
            .exclude(username="system")
        )


class ReviewSignForm(SignatureForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("reviewed", _("Reviewed: ready for approval")), ("send_back", _("Send back to the author"))],
        widget=forms.RadioSelect,
        initial="reviewed",
    )


class ApproveForm(SignatureForm):
    effective_from = forms.DateField(
        label=_("Effective from"), widget=DATE, help_text=_("today = effective at once; a later date = scheduled")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = timezone.localdate()


class InstructorForm(SignatureForm):
    trainees = UsersChoice(label=_("Trainees"), queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple)
    trained_on = forms.DateField(label=_("Trained on"), widget=DATE)
    assessment = forms.ChoiceField(
        label=_("Assessment"),
        choices=[(AssessmentResult.PASSED, _("Passed")), (AssessmentResult.FAILED, _("Failed"))],
    )
    score = forms.CharField(label=_("Score"), max_length=20, required=False)

    def __init__(self, *args, site=None, trainer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trained_on"].initial = timezone.localdate()
        qs = (
            User.objects.filter(is_active=True, memberships__site=site, memberships__is_active=True)
            .exclude(memberships__role=Role.AUDITOR, memberships__site=site)
            .exclude(username="system")
            .distinct()
            .order_by("username")
        )
        if trainer is not None:
            qs = qs.exclude(pk=trainer.pk)
        self.fields["trainees"].queryset = qs


class RequirementForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=WORK_ROLES)
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[
            (TrainingMethod.READ, _("Read and understood")),
            (TrainingMethod.INSTRUCTOR, _("Instructor-led with assessment")),
        ],
    )
    due_days = forms.IntegerField(label=_("Due within (days)"), min_value=1, max_value=365, initial=14)
    valid_months = forms.IntegerField(
        label=_("Valid for (months)"),
        min_value=1,
        max_value=120,
        required=False,
        help_text=_("empty = until the next version"),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("What the review found"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class InForceForm(forms.Form):
    on = forms.DateField(label=_("In force on"), widget=DATE)


class SettingForm(forms.Form):
    gate_mode = forms.ChoiceField(label=_("Training gate"), choices=GateMode.choices, widget=forms.RadioSelect)
    review_reminder_days = forms.IntegerField(
        label=_("Remind of a periodic review (days before)"), min_value=0, max_value=365, initial=30
    )
    reason = forms.CharField(label=_("Reason for change"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        docs = Document.objects.filter(site=site, status="active").order_by("number")
        for value, label in GatedDecision.choices:
            self.fields[f"rule_{value}"] = forms.ModelChoiceField(
                label=_("Procedure for: %(d)s") % {"d": label}, queryset=docs, required=False
            )

    def rules(self) -> dict:
        return {value: self.cleaned_data.get(f"rule_{value}") for value, _label in GatedDecision.choices}
