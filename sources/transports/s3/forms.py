"""The S3 transport's settings form: bucket, prefixes (a formset) and how new objects are found."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict

from sources.forms import AccountIdField, ListField, log_type_choices
from sources.transports.aws import AwsSourceForm
from sources.validators import (
    QUEUE_NAME_RE,
    parse_queue_url,
    queue_url_for,
    validate_bucket_name,
    validate_exclusion,
    validate_kms_key_arn,
    validate_prefix,
)


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


class S3SourceForm(AwsSourceForm):
    account_id = AccountIdField(
        label="AWS Account ID",
        max_length=32,
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
        help_text="The SQS queue receiving the bucket's ObjectCreated notifications: its URL, or "
        "its name in the account above.",
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
        self.nested_forms = self.prefixes.forms

    @classmethod
    def rebound(cls, data):
        """ "+ Add prefix" shows the form again with one more prefix row (no JS needed)."""
        if "add_prefix" not in data:
            return data, True
        if "prefixes-TOTAL_FORMS" in data:
            data = data.copy()
            data["prefixes-TOTAL_FORMS"] = str(int(data["prefixes-TOTAL_FORMS"] or 0) + 1)
        return data, False

    def is_valid(self) -> bool:
        main_ok = super().is_valid()
        return self.prefixes.is_valid() and main_ok

    def has_errors(self) -> bool:
        return bool(self.errors or self.prefixes.total_error_count())

    def clean_queue_url(self) -> str:
        url = self.cleaned_data.get("queue_url", "").strip()
        if url and not QUEUE_NAME_RE.fullmatch(url):  # a bare name becomes a URL in clean()
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
        queue = cleaned.get("queue_url", "")
        if queue and "/" not in queue and cleaned.get("account_id") and cleaned.get("region"):
            cleaned["queue_url"] = queue_url_for(cleaned["region"], cleaned["account_id"], queue)
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
