"""Forms of the alert and detection pages (the API validates the same values in its schemas)."""

from __future__ import annotations

from django import forms

from detections import runs
from detections.models import Alert, RuleRun, Severity
from detections.services import assignable_users


class TriageForm(forms.Form):
    status = forms.ChoiceField(choices=Alert.Status.choices)
    assignee = forms.ModelChoiceField(
        queryset=assignable_users(),
        required=False,
        empty_label="Unassigned",
        to_field_name="username",
    )


class BulkStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Alert.Status.choices)
    alerts = forms.ModelMultipleChoiceField(
        queryset=Alert.objects.all(),
        error_messages={"required": "Select at least one alert."},
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class RuleSettingForm(forms.Form):
    enabled = forms.TypedChoiceField(
        choices=[("true", "On"), ("false", "Off")],
        coerce=lambda v: v == "true",
        required=False,
        empty_value=None,
    )
    severity = forms.ChoiceField(
        choices=[("", "As the rule says"), *Severity.choices], required=False
    )


class RunForm(forms.Form):
    kind = forms.ChoiceField(choices=RuleRun.Kind.choices)
    start = forms.DateTimeField(required=False, label="From (UTC)")
    end = forms.DateTimeField(required=False, label="To (UTC)")

    def clean(self):
        data = super().clean()
        if data.get("kind") == RuleRun.Kind.EVENTS and not self.errors:
            try:
                data["start"], data["end"] = runs.check_range(data.get("start"), data.get("end"))
            except runs.RunError as error:
                self.add_error(error.field, error.message)
        return data
