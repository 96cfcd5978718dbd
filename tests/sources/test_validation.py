"""Bad settings get a clear message on their field; good ones clean into the config contract."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sources.forms import AlarmForm
from sources.transports import get
from sources.transports.s3.forms import S3SourceForm
from sources.transports.sqs import SqsSourceForm
from sources.validators import (
    parse_queue_url,
    validate_account_id,
    validate_bucket_name,
    validate_kms_key_arn,
    validate_role_arn,
)
from tests.factories import SourceFactory
from tests.sources.conftest import ACCOUNT, TELEPORT, s3_form_data, sqs_form_data

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def message(validator, value) -> str:
    with pytest.raises(ValidationError) as info:
        validator(value)
    return " ".join(info.value.messages)


def test_account_id_is_exactly_twelve_digits():
    validate_account_id("123456789012")
    assert "exactly 12 digits" in message(validate_account_id, "1234567890123")
    assert "(got 13 digits)" in message(validate_account_id, "1234567890123")
    assert "(got 12 characters)" in message(validate_account_id, "12345678901a")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "3 to 63 characters"),
        ("a" * 64, "3 to 63 characters"),
        ("Sluice-Logs", "lowercase letters"),
        ("sluice_logs", "lowercase letters"),
        ("-sluice", "begin and end with a letter or digit"),
        ("sluice..logs", "two adjacent dots"),
        ("192.168.5.4", "IP address"),
        ("xn--sluice", "must not start with 'xn--'"),
        ("sluice-s3alias", "must not end with '-s3alias'"),
    ],
)
def test_bucket_names_follow_s3_naming_rules(name, reason):
    text = message(validate_bucket_name, name)
    assert f"'{name}' is not a valid S3 bucket name" in text
    assert reason in text


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", fullmatch=True))
def test_every_lowercase_hyphenated_name_is_a_valid_bucket(name):
    if not name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) and not name.endswith(
        ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")
    ):
        validate_bucket_name(name)


def test_arns_are_checked_for_their_service_and_shape():
    validate_role_arn("arn:aws:iam::123456789012:role/sluice-reader")
    validate_role_arn("arn:aws:iam::123456789012:role/path/to/reader")
    assert "IAM role ARN like" in message(validate_role_arn, "arn:aws:iam::1234:role/x")
    assert "IAM role ARN like" in message(validate_role_arn, "arn:aws:iam::123456789012:user/bob")
    validate_kms_key_arn(KEY_ARN)
    assert "KMS key ARN like" in message(validate_kms_key_arn, "arn:aws:kms:us-east-1:1:key/x")
    alias = "arn:aws:kms:us-east-1:123456789012:alias/logs"
    assert "alias ARN cannot be used" in message(validate_kms_key_arn, alias)


def test_queue_urls_have_the_aws_shape_or_point_at_the_configured_endpoint(settings):
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/sluice-notifications"
    assert parse_queue_url(url) == ("eu-west-1", "123456789012", "sluice-notifications")
    bad = "https://example.com/123456789012/q"
    assert "Enter an SQS queue URL like" in message(parse_queue_url, bad)
    assert "12-digit" in message(parse_queue_url, "https://sqs.us-east-1.amazonaws.com/12/q")
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:5055"
    assert parse_queue_url("http://localhost:5055/123456789012/q") == (None, ACCOUNT, "q")
    assert "Enter an SQS queue URL" in message(parse_queue_url, "http://127.0.0.1:9999/1/q")


ARABIC_ACCOUNT = "١٢٣٤٥٦٧٨٩٠١٢"  # Arabic-Indic digits: str.isdigit() and \d accept them


@pytest.mark.parametrize(
    ("validator", "value"),
    [
        (validate_account_id, ARABIC_ACCOUNT),
        (validate_account_id, "１２３４５６７８９０１２"),
        (validate_role_arn, f"arn:aws:iam::{ARABIC_ACCOUNT}:role/reader"),
        (validate_role_arn, "arn:aws:iam::123456789012:role/lecteur-é"),
        (validate_kms_key_arn, KEY_ARN.replace("123456789012", ARABIC_ACCOUNT)),
        (parse_queue_url, f"https://sqs.us-east-1.amazonaws.com/{ARABIC_ACCOUNT}/q"),
        (parse_queue_url, "https://sqs.us-east-1.amazonaws.com/123456789012/queue-é"),
    ],
)
def test_ids_arns_and_queue_urls_take_ascii_only(validator, value):
    assert message(validator, value)


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["1234-5678-9012", " 1234 5678 9012 ", "123456789012"])
def test_an_account_id_typed_as_the_aws_console_shows_it_is_cleaned(typed):
    form = S3SourceForm(s3_form_data(account_id=typed))
    assert form.is_valid(), form.error_dict()
    assert form.cleaned_data["account_id"] == ACCOUNT


@pytest.mark.django_db
@pytest.mark.parametrize("typed", [ARABIC_ACCOUNT, "1234-5678-901", "1234--5678-9012x"])
def test_an_account_id_with_other_characters_is_refused(typed):
    form = S3SourceForm(s3_form_data(account_id=typed))
    assert not form.is_valid()
    assert "exactly 12 digits" in form.error_dict()["account_id"][0]


@pytest.mark.django_db
def test_a_bare_queue_name_becomes_the_queue_url_of_the_bucket_account(settings):
    settings.AWS_ENDPOINT_URL = None
    data = s3_form_data(discovery="notifications", queue_url="sluice-notifications")
    form = S3SourceForm(data)
    assert form.is_valid(), form.error_dict()
    expected = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/sluice-notifications"
    assert form.cleaned_data["queue_url"] == expected
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:5055"
    form = S3SourceForm(data)
    assert form.is_valid(), form.error_dict()
    assert form.cleaned_data["queue_url"] == f"http://127.0.0.1:5055/{ACCOUNT}/sluice-notifications"


@pytest.mark.django_db
def test_s3_form_reports_each_bad_value_on_its_field():
    form = S3SourceForm(
        s3_form_data(
            account_id="1234567890123",
            bucket="Bad_Bucket",
            kms_key_arn="arn:aws:kms:nope",
            role_arn="role/sluice",
            discovery="notifications",
            queue_url="https://sqs.example.com/q",
            **{"prefixes-0-prefix": "/teleport/", "prefixes-0-exclude": "*.tmp\n[abc]"},
        )
    )
    assert not form.is_valid()
    errors = form.error_dict()
    assert "exactly 12 digits" in errors["account_id"][0]
    assert "not a valid S3 bucket name" in errors["bucket"][0]
    assert "KMS key ARN like" in errors["kms_key_arn"][0]
    assert "IAM role ARN like" in errors["role_arn"][0]
    assert "SQS queue URL like" in errors["queue_url"][0]
    assert "do not start with '/'" in errors["prefixes[0].prefix"][0]
    assert "only the * wildcard" in errors["prefixes[0].exclude"][0]


@pytest.mark.django_db
def test_s3_form_needs_a_queue_for_notifications_and_unique_prefixes_and_names():
    SourceFactory(name="taken")
    form = S3SourceForm(
        s3_form_data(
            name="Taken",
            discovery="notifications",
            **{
                "prefixes-TOTAL_FORMS": "2",
                "prefixes-1-prefix": "teleport/",
                "prefixes-1-log_types": [TELEPORT],
            },
        )
    )
    assert not form.is_valid()
    errors = form.error_dict()
    assert errors["name"] == ["A source named 'Taken' already exists."]
    assert "Enter the queue receiving" in errors["queue_url"][0]
    assert "listed twice" in errors["prefixes[1].prefix"][0]


@pytest.mark.django_db
def test_a_valid_s3_form_cleans_into_the_config_contract():
    data = s3_form_data(
        stream_type="json_array",
        envelope="Records",
        **{"prefixes-0-exclude": "*.tmp, */debug/*"},
    )
    transport = get("s3")
    form = transport.bind_form(data)
    assert form.is_valid(), form.error_dict()
    assert transport.config_from(form) == {
        "account_id": ACCOUNT,
        "bucket": "sluice-test-logs",
        "region": "us-east-1",
        "kms_key_arn": "",
        "role_arn": "",
        "prefixes": [
            {"prefix": "teleport/", "log_types": [TELEPORT], "exclude": ["*.tmp", "*/debug/*"]}
        ],
        "stream_type": "json_array",
        "envelope": "Records",
        "discovery": "listing",
        "queue_url": "",
        "list_interval_minutes": 5,
    }
    assert transport.log_types_from(form) == [TELEPORT]


@pytest.mark.django_db
def test_config_round_trips_through_the_form_data_the_api_binds():
    for key, data in [
        ("s3", s3_form_data()),
        ("sqs", sqs_form_data(queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q")),
    ]:
        transport = get(key)
        form = transport.bind_form(data)
        assert form.is_valid(), form.error_dict()
        config, log_types = transport.config_from(form), transport.log_types_from(form)
        again = transport.bind_form(transport.form_data_from(data["name"], log_types, config))
        assert again.is_valid(), again.error_dict()
        assert transport.config_from(again) == config


@pytest.mark.django_db
def test_sqs_form_needs_a_queue_url_or_a_name_to_create_and_checks_the_region():
    form = SqsSourceForm(sqs_form_data())
    assert not form.is_valid()
    assert "Enter the URL of the queue" in form.errors["queue_url"][0]
    form = SqsSourceForm(sqs_form_data(queue_mode="create", queue_name="bad name!"))
    assert not form.is_valid()
    assert "1 to 80 letters" in form.errors["queue_name"][0]
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
    form = SqsSourceForm(sqs_form_data(queue_url=url, allowed_principal_arns="not-an-arn"))
    assert not form.is_valid()
    assert form.errors["region"] == ["The queue URL is in eu-west-1: pick eu-west-1."]
    assert "'not-an-arn' is not an ARN" in form.errors["allowed_principal_arns"][0]


@pytest.mark.parametrize(
    ("amount", "unit", "minutes", "ok"),
    [
        (15, "minutes", 15, True),
        (14, "minutes", 14, False),
        (30, "days", 43200, True),
        (31, "days", 44640, False),
        (6, "hours", 360, True),
    ],
)
def test_alarm_window_is_between_15_minutes_and_30_days(amount, unit, minutes, ok):
    form = AlarmForm({"enabled": "on", "amount": amount, "unit": unit})
    assert form.is_valid() is ok
    if ok:
        assert form.cleaned_data["minutes"] == minutes
    else:
        assert form.errors["amount"] == ["The alarm window must be between 15 minutes and 30 days."]
    assert AlarmForm({"amount": "", "unit": "hours"}).is_valid()
