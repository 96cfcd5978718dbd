"""Forms of the onboarding wizard and the source settings page (the API binds the same forms)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict

from logtypes import registry as logtypes
from sources.models import ALARM_MAX_MINUTES, ALARM_MIN_MINUTES, Source
from sources.validators import (
    parse_queue_url,
    validate_account_id,
    validate_bucket_name,
    validate_exclusion,
    validate_kms_key_arn,
    validate_prefix,
    validate_principal_or_source_arn,
    validate_queue_name,
    validate_role_arn,
)

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
    "ap-southeast-2", "me-central-1", "af-south-1",
]  # fmt: skip
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


class SourceSettingsForm(forms.Form):
    """Fields every transport has; `instance` is the source being edited (None when creating)."""

    name = forms.CharField(
        max_length=100,
        help_text="A name you will recognise in search results, e.g. teleport-prod.",
    )
    region = forms.ChoiceField(choices=[(r, r) for r in REGIONS], initial="us-east-1")
    role_arn = forms.CharField(
        label="IAM role ARN to assume",
        required=False,
        validators=[validate_role_arn],
        help_text="Optional. Without one, the worker's own AWS credentials are used.",
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


class PrefixForm(forms.Form):
    prefix = forms.CharField(
        required=False,
        max_length=1024,
        validators=[validate_prefix],
        help_text="Empty means the whole bucket.",
        widget=forms.TextInput(attrs={"placeholder": "teleport/"}),
    )
    log_types = forms.MultipleChoiceField(
        choices=log_type_choices, widget=forms.CheckboxSelectMultiple
    )
    exclude = ListField(
        label="Exclusion filters",
        item_validator=validate_exclusion,
        help_text="One per line; * matches anything, e.g. *.tmp or */debug/*.",
    )


class BasePrefixFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        live = [f for f in self.forms if not (self.can_delete and self._should_delete_form(f))]
        if not live:
            raise forms.ValidationError("Add at least one prefix (an empty prefix reads it all).")
        for form in live:
            prefix = form.cleaned_data.get("prefix", "")
            if prefix in seen:
                form.add_error("prefix", f"The prefix '{prefix}' is listed twice.")
            seen.add(prefix)


PrefixFormSet = forms.formset_factory(
    PrefixForm, formset=BasePrefixFormSet, extra=0, min_num=1, can_delete=True, max_num=50
)


class S3SourceForm(SourceSettingsForm):
    account_id = forms.CharField(
        label="AWS Account ID",
        max_length=32,
        validators=[validate_account_id],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="The 12-digit account that owns the bucket.",
    )
    bucket = forms.CharField(label="Bucket name", max_length=255, validators=[validate_bucket_name])
    kms_key_arn = forms.CharField(
        label="KMS key ARN",
        required=False,
        validators=[validate_kms_key_arn],
        help_text="Optional: the key that encrypts the objects (SSE-KMS).",
    )
    discovery = forms.ChoiceField(
        label="How new objects are found",
        choices=[
            ("notifications", "S3 event notifications through an SQS queue"),
            ("listing", "List the bucket every N minutes"),
        ],
        initial="notifications",
        widget=forms.RadioSelect,
    )
    queue_url = forms.CharField(
        label="Notification queue URL",
        required=False,
        help_text="The SQS queue receiving the bucket's ObjectCreated notifications.",
    )
    list_interval_minutes = forms.IntegerField(
        label="Listing interval (minutes)", min_value=1, max_value=1440, initial=5, required=False
    )

    CONDITIONAL = ("envelope", "queue_url", "list_interval_minutes")
    field_order = [
        "name", "account_id", "bucket", "region", "kms_key_arn", "role_arn",
        "stream_type", "envelope", "discovery", "queue_url", "list_interval_minutes",
    ]  # fmt: skip

    def __init__(self, data=None, *args, prefixes_initial=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.prefixes = PrefixFormSet(data, prefix="prefixes", initial=prefixes_initial)

    def is_valid(self) -> bool:
        main_ok = super().is_valid()
        return self.prefixes.is_valid() and main_ok

    def clean_queue_url(self) -> str:
        url = self.cleaned_data.get("queue_url", "").strip()
        if url:
            parse_queue_url(url)
        return url

    def without_errors(self) -> S3SourceForm:
        """The bound form shown again without messages (after 'Add prefix': not submitted)."""
        self.full_clean()
        self._errors = ErrorDict()
        self.prefixes.full_clean()
        self.prefixes._errors = [ErrorDict() for _ in self.prefixes.forms]
        self.prefixes._non_form_errors = self.prefixes.error_class()
        for form in self.prefixes.forms:
            form._errors = ErrorDict()
        return self

    def clean(self):
        cleaned = super().clean()
        discovery = cleaned.get("discovery")
        if (
            discovery == "notifications"
            and not cleaned.get("queue_url")
            and ("queue_url" not in self.errors)
        ):
            self.add_error(
                "queue_url",
                "Enter the queue receiving the bucket's notifications, "
                "or choose to list the bucket instead.",
            )
        if discovery == "listing" and not cleaned.get("list_interval_minutes"):
            self.add_error("list_interval_minutes", "How often should the bucket be listed?")
        return cleaned

    def error_dict(self) -> dict[str, list[str]]:
        errors = super().error_dict()
        for index, form in enumerate(self.prefixes.forms):
            for field, errs in form.errors.items():
                errors[f"prefixes[{index}].{field}"] = [str(e) for e in errs]
        if self.prefixes.is_bound and self.prefixes.non_form_errors():
            errors["prefixes"] = [str(e) for e in self.prefixes.non_form_errors()]
        return errors

    def prefix_rows(self) -> list[dict[str, Any]]:
        rows = []
        for form in self.prefixes.forms:
            if self.prefixes._should_delete_form(form):
                continue
            rows.append(
                {
                    "prefix": form.cleaned_data.get("prefix", ""),
                    "log_types": list(form.cleaned_data["log_types"]),
                    "exclude": form.cleaned_data.get("exclude", []),
                }
            )
        return rows


class SqsSourceForm(SourceSettingsForm):
    log_types = forms.MultipleChoiceField(
        label="Log types", choices=log_type_choices, widget=forms.CheckboxSelectMultiple
    )
    queue_mode = forms.ChoiceField(
        label="Queue",
        choices=[("existing", "Use an existing queue"), ("create", "Create the queue for me")],
        initial="existing",
        widget=forms.RadioSelect,
    )
    queue_url = forms.CharField(label="Queue URL", required=False)
    queue_name = forms.CharField(
        label="New queue name",
        required=False,
        max_length=80,
        validators=[validate_queue_name],
        help_text="The console creates it in the region above when you continue.",
    )
    allowed_principal_arns = ListField(
        label="AWS principals allowed to send",
        item_validator=validate_principal_or_source_arn,
        help_text="One ARN or account ID per line; written into the queue policy.",
    )
    allowed_source_arns = ListField(
        label="Source ARNs allowed to send",
        item_validator=validate_principal_or_source_arn,
        help_text="One ARN per line, e.g. an SNS topic or S3 bucket (aws:SourceArn condition).",
    )

    CONDITIONAL = ("envelope", "queue_url", "queue_name")
    field_order = [
        "name", "log_types", "queue_mode", "queue_url", "queue_name", "region", "role_arn",
        "stream_type", "envelope", "allowed_principal_arns", "allowed_source_arns",
    ]  # fmt: skip

    def clean_queue_url(self) -> str:
        url = self.cleaned_data.get("queue_url", "").strip()
        if url:
            region, _account, _name = parse_queue_url(url)
            self._queue_region = region
        return url

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("queue_mode")
        if mode == "existing" and not cleaned.get("queue_url") and "queue_url" not in self.errors:
            self.add_error("queue_url", "Enter the URL of the queue, or let the console create it.")
        if mode == "create" and not cleaned.get("queue_name") and "queue_name" not in self.errors:
            self.add_error("queue_name", "Name the queue the console should create.")
        region = getattr(self, "_queue_region", None)
        if mode == "existing" and region and cleaned.get("region") and region != cleaned["region"]:
            self.add_error("region", f"The queue URL is in {region}: pick {region}.")
        return cleaned


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
