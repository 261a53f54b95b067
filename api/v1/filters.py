"""Filters that refuse what they cannot read (django-filter's boolean quietly ignores `?open=null`, which
answers an integration's typo with every record) and date-times the database cannot take."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from django_filters.widgets import BooleanWidget


class _KeepUnreadable(BooleanWidget):
    def value_from_datadict(self, data, files, name):
        raw = data.get(name)
        value = super().value_from_datadict(data, files, name)
        return raw if value is None and raw not in (None, "") else value


class _StrictBooleanField(forms.NullBooleanField):
    widget = _KeepUnreadable

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        raise ValidationError(_("Use true or false."), code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = _StrictBooleanField


class _UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time in UTC: PostgreSQL takes offsets up to ±15:59 only, so an unusual offset is
    converted here rather than refused by the database (a 500)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise ValidationError(_("The date and time is out of range."), code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField
