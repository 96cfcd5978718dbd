"""What the transports' settings forms share (each transport's own form lives in its module),
and the drop-off alarm form. The wizard, the settings page, the API and the admin bind the same
forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict

from logtypes import registry as logtypes
from sources.models import ALARM_MAX_MINUTES, ALARM_MIN_MINUTES, Source
from sources.validators import clean_account_id, validate_account_id

STREAM_TYPES = [
    ("auto", "Auto-detect"),
    ("lines", "Lines"),
    ("json", "JSON"),
    ("json_array", "JSON Array"),
    ("cloudwatch", "CloudWatch Logs"),
]


def log_type_choices() -> list[tuple[str, str]]:
    """Every log type of the registry, SLUICE_SCHEMAS_DIR's included (read on each form use)."""
    return [(lt.name, f"{lt.title} ({lt.name})") for lt in logtypes.all()]


def split_list(value: str | list | None) -> list[str]:
    """Items of a comma- or newline-separated text (or a list), stripped, empties dropped."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).replace(",", "\n").splitlines()
    return [str(item).strip() for item in items if str(item).strip()]


class ListField(forms.CharField):
    """A textarea of one item per line (commas also separate); cleans to a list."""

    def __init__(self, *, item_validator=None, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        self.item_validator = item_validator
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return split_list(value)

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value):
        errors = []
        for item in value:
            try:
                if self.item_validator:
                    self.item_validator(item)
            except forms.ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise forms.ValidationError(errors)


class AccountIdField(forms.CharField):
    """A 12-digit AWS account id, also as the AWS console shows it (1234-5678-9012)."""

    default_validators = [validate_account_id]

    def to_python(self, value: Any) -> str:
        return clean_account_id(super().to_python(value))


class SourceSettingsForm(forms.Form):
    """Fields every transport has; `instance` is the source being edited (None when creating)."""

    name = forms.CharField(
        max_length=100,
        help_text="A name you will recognise in search results, e.g. teleport-prod.",
    )
    stream_type = forms.ChoiceField(choices=STREAM_TYPES, initial="auto")
    envelope = forms.CharField(
        label="Envelope field",
        required=False,
        max_length=100,
        help_text="JSON Array only: the field holding the array, e.g. Records (empty: top level).",
    )

    def __init__(self, *args, instance: Source | None = None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)
        for name in self.CONDITIONAL:
            self.fields[name].conditional = True  # required or not depending on other choices

    CONDITIONAL: tuple[str, ...] = ("envelope",)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Source.objects.filter(name__iexact=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"A source named '{name}' already exists.")
        return name

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("envelope") and cleaned.get("stream_type") != "json_array":
            self.add_error("envelope", "An envelope field applies to the JSON Array stream type.")
        return cleaned

    # Subclasses: field errors flattened for the API, including nested forms.
    def error_dict(self) -> dict[str, list[str]]:
        return {field: [str(e) for e in errs] for field, errs in self.errors.items()}

    nested_forms: list[forms.Form] = []  # e.g. S3's prefix rows (validated field by field too)

    def has_errors(self) -> bool:
        return bool(self.errors)

    @classmethod
    def rebound(cls, data) -> tuple[Any, bool]:
        """(POST data, submitted): a button that only changes the form (e.g. "Add prefix")
        shows it again instead of submitting it."""
        return data, True

    def without_errors(self) -> SourceSettingsForm:
        """The bound form shown again without messages (it was not submitted)."""
        self.full_clean()
        self._errors = ErrorDict()
        return self


class AlarmForm(forms.Form):
    """The drop-off alarm of the Finish step: off, or N minutes/hours/days (15 min to 30 days)."""

    UNITS = {"minutes": 1, "hours": 60, "days": 24 * 60}

    enabled = forms.BooleanField(
        label="Mark the source unhealthy when no data arrives for", required=False
    )
    amount = forms.IntegerField(label="Amount", min_value=1, required=False, initial=1)
    unit = forms.ChoiceField(
        label="Unit", choices=[(u, u) for u in UNITS], initial="hours", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("amount", "unit"):
            self.fields[name].conditional = True  # needed only when the alarm is on

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("enabled"):
            cleaned["minutes"] = None
            return cleaned
        amount = cleaned.get("amount")
        if not amount:
            self.add_error("amount", "Enter how long without data raises the alarm.")
            return cleaned
        minutes = amount * self.UNITS[cleaned.get("unit") or "minutes"]
        if not ALARM_MIN_MINUTES <= minutes <= ALARM_MAX_MINUTES:
            self.add_error("amount", "The alarm window must be between 15 minutes and 30 days.")
        cleaned["minutes"] = minutes
        return cleaned

    @classmethod
    def initial_for(cls, minutes: int | None) -> dict[str, Any]:
        if not minutes:
            return {"enabled": False, "amount": 1, "unit": "hours"}
        for unit in ("days", "hours", "minutes"):
            if minutes % cls.UNITS[unit] == 0:
                return {"enabled": True, "amount": minutes // cls.UNITS[unit], "unit": unit}
        return {"enabled": True, "amount": minutes, "unit": "minutes"}
