"""The Create New wizard with plain POSTs (no JavaScript): every step, nothing saved half-way."""

import pytest
import yaml
from django.urls import reverse

from audit.models import AuditEntry
from sources import aws as aws_clients
from sources.models import Source, VerificationRun
from sources.tasks import run_verification
from tests.sources.conftest import BUCKET, TELEPORT, s3_form_data, sqs_form_data

pytestmark = pytest.mark.django_db


def configure_url(transport: str) -> str:
    return reverse("sources:new_configure", args=[TELEPORT, transport])


def draft_of(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].split("/new/setup/")[1].split("/")[0]


def test_step_one_lists_log_type_tiles_that_filter_as_you_type(admin_client):
    page = admin_client.get(reverse("sources:new")).content.decode()
    assert 'label for="id_q">Search log types' in page
    assert "Teleport" in page
    assert "OpenSSH authentication" in page
    found = admin_client.get(reverse("sources:new"), {"q": "telep"}, headers={"HX-Request": "true"})
    fragment = found.content.decode()
    assert fragment.lstrip().startswith('<ul class="tiles" id="tiles"')
    assert "Teleport" in fragment
    assert "OpenSSH" not in fragment
    by_category = admin_client.get(reverse("sources:new"), {"category": "Infrastructure"})
    assert "OpenSSH authentication" in by_category.content.decode()
    assert "/sources/new/Gravitational.TeleportAudit/" not in by_category.content.decode()
    nothing = admin_client.get(reverse("sources:new"), {"q": "zzz"}).content.decode()
    assert "No log type matches" in nothing


def test_tile_overview_shows_the_schema_and_the_transport_choice(admin_client):
    page = admin_client.get(reverse("sources:new_overview", args=[TELEPORT])).content.decode()
    assert "goteleport.com" in page
    assert "Start Setup" in page
    assert "AWS S3 Bucket" in page
    assert "Amazon SQS" in page
    assert configure_url("s3") in page
    assert configure_url("sqs") in page


def test_bad_values_come_back_on_their_fields_and_nothing_is_saved(admin_client):
    response = admin_client.post(
        configure_url("s3"), s3_form_data(account_id="1234567890123", bucket="Bad_Bucket")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "An AWS account ID is exactly 12 digits" in page
    assert "is not a valid S3 bucket name" in page
    assert 'aria-invalid="true"' in page
    assert not Source.objects.exists()


def test_add_prefix_rerenders_the_form_with_one_more_row_without_validating(admin_client):
    response = admin_client.post(configure_url("s3"), s3_form_data(add_prefix="1", bucket=""))
    page = response.content.decode()
    assert 'name="prefixes-1-prefix"' in page
    assert "This field is required" not in page


def test_validate_endpoint_renders_only_the_field_left(admin_client):
    url = reverse("sources:validate_field", args=["s3"])
    response = admin_client.post(
        url, s3_form_data(account_id="1234", _field="account_id"), headers={"HX-Request": "true"}
    )
    fragment = response.content.decode()
    assert fragment.startswith('<div class="field field-account_id has-error" id="wrap-account_id"')
    assert "exactly 12 digits, like 123456789012 (got 4 digits)." in fragment
    assert 'name="bucket"' not in fragment
    assert "<form" not in fragment
    ok = admin_client.post(url, s3_form_data(_field="prefixes-0-prefix"))
    assert 'id="wrap-prefixes-0-prefix"' in ok.content.decode()
    assert "errorlist" not in ok.content.decode()


def test_s3_wizard_walk_permissions_verify_finish(admin_client, admin_user, bucket):
    response = admin_client.post(configure_url("s3"), s3_form_data())
    draft = draft_of(response)
    assert not Source.objects.exists()

    permissions = admin_client.get(reverse("sources:draft_permissions", args=[draft]))
    assert "CloudFormation" in permissions.content.decode()
    download = admin_client.get(
        reverse("sources:draft_template", args=[draft, "cloudformation.yml"])
    )
    assert (
        download["Content-Disposition"]
        == 'attachment; filename="sluice-teleport-s3-cloudformation.yml"'
    )
    assert yaml.safe_load(download.content)["Resources"]["SluiceReaderRole"]
    tf = admin_client.get(reverse("sources:draft_template", args=[draft, "main.tf"]))
    assert b'resource "aws_iam_role" "sluice_reader"' in tf.content

    verify_url = reverse("sources:draft_verify", args=[draft])
    assert admin_client.post(verify_url).status_code == 302
    run = VerificationRun.objects.get()
    assert run.source is None
    assert run.config["bucket"] == BUCKET
    run_verification(run.pk)  # what the worker does (the e2e tests use a real one)
    page = admin_client.get(verify_url).content.decode()
    assert "All checks passed" in page
    assert "Read teleport/2026/11/27/10/events.json.gz" in page
    poll = admin_client.get(reverse("sources:verification", args=[run.pk])).content.decode()
    assert "hx-trigger" not in poll  # done: polling stops

    finish_url = reverse("sources:draft_finish", args=[draft])
    summary = admin_client.get(finish_url).content.decode()
    assert "s3://sluice-test-logs in us-east-1" in summary
    assert "teleport/ → Gravitational.TeleportAudit" in summary
    assert "listing every 5 minutes" in summary
    bad = admin_client.post(finish_url, {"enabled": "on", "amount": "10", "unit": "minutes"})
    assert "between 15 minutes and 30 days" in bad.content.decode()
    assert not Source.objects.exists()
    done = admin_client.post(finish_url, {"enabled": "on", "amount": "2", "unit": "hours"})
    source = Source.objects.get()
    assert done["Location"] == source.get_absolute_url()
    assert source.name == "teleport-s3"
    assert source.log_types == [TELEPORT]
    assert source.alarm_minutes == 120
    assert source.config["prefixes"][0]["prefix"] == "teleport/"
    assert source.created_by == admin_user
    assert source.health == Source.Health.WAITING
    run.refresh_from_db()
    assert run.source == source
    created = AuditEntry.objects.for_object(source).get()
    assert (created.action, created.actor, created.via) == ("created", admin_user, "console")
    assert created.changes["name"] == [None, "teleport-s3"]
    assert created.changes["config.bucket"] == [None, BUCKET]
    # the draft is gone: finishing twice cannot create a second source
    assert admin_client.post(finish_url, {}).status_code == 404


def test_saving_with_failing_checks_makes_an_unhealthy_source(admin_client, aws):
    draft = draft_of(admin_client.post(configure_url("s3"), s3_form_data(bucket="no-such-bucket")))
    admin_client.post(reverse("sources:draft_verify", args=[draft]))
    run_verification(VerificationRun.objects.get().pk)
    admin_client.post(reverse("sources:draft_finish", args=[draft]), {})
    source = Source.objects.get()
    assert source.health == Source.Health.UNHEALTHY
    assert "Bucket no-such-bucket does not exist" in source.health_reason
    page = admin_client.get(source.get_absolute_url()).content.decode()
    assert "Bucket no-such-bucket does not exist" in page


def test_sqs_wizard_creates_the_queue_with_the_senders_policy(admin_client, aws):
    data = sqs_form_data(
        queue_mode="create",
        queue_name="teleport-raw",
        allowed_principal_arns="arn:aws:iam::210987654321:root",
    )
    draft = draft_of(admin_client.post(configure_url("sqs"), data))
    sqs = aws_clients.client("sqs", region="us-east-1")
    url = sqs.get_queue_url(QueueName="teleport-raw")["QueueUrl"]
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
    assert "arn:aws:iam::210987654321:root" in policy["Policy"]
    admin_client.post(reverse("sources:draft_verify", args=[draft]))
    assert run_verification(VerificationRun.objects.get().pk) == "passed"
    admin_client.post(reverse("sources:draft_finish", args=[draft]), {})
    source = Source.objects.get()
    assert source.transport == "sqs"
    assert source.config["queue_url"] == url
    assert source.config["created_by_console"] is True
    assert source.config["allowed_principal_arns"] == ["arn:aws:iam::210987654321:root"]


def test_the_transport_tab_rerenders_only_the_form(admin_client):
    response = admin_client.get(
        configure_url("sqs"), headers={"HX-Request": "true", "HX-Target": "transport-form"}
    )
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<form id="transport-form"')
    assert 'name="queue_mode"' in fragment
    assert "<html" not in fragment


def test_back_from_permissions_refills_the_form_from_the_draft(admin_client):
    draft = draft_of(admin_client.post(configure_url("s3"), s3_form_data(name="refilled")))
    page = admin_client.get(configure_url("s3") + f"?draft={draft}").content.decode()
    assert 'value="refilled"' in page
    again = admin_client.post(configure_url("s3"), s3_form_data(name="renamed", draft=draft))
    assert draft_of(again) == draft


def test_the_verify_step_starts_its_checks_on_arrival(admin_client):
    draft = draft_of(admin_client.post(configure_url("s3"), s3_form_data()))
    verify_url = reverse("sources:draft_verify", args=[draft])
    page = admin_client.get(verify_url).content.decode()
    # the page asks for the checks as soon as it loads (the button stays, for no JavaScript)
    start = page.split('id="run-checks"')[1].split(">")[0]
    assert 'hx-trigger="load"' in start
    assert 'hx-target="#verify-step"' in start
    # the answer is the step with its checks, swapped in place: no reload that would undo a
    # click on "Continue to finish" made meanwhile
    response = admin_client.post(verify_url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Refresh" not in response
    assert 'id="verify-step"' in response.content.decode()
    assert VerificationRun.objects.count() == 1


def test_after_failed_checks_verify_again_is_the_main_button_and_a_role_arn_can_be_pasted(
    admin_client,
):
    draft = draft_of(admin_client.post(configure_url("s3"), s3_form_data()))
    verify_url = reverse("sources:draft_verify", args=[draft])
    admin_client.post(verify_url)
    failed = [{"name": "Bucket", "ok": False, "message": "AccessDenied", "at": "t"}]
    VerificationRun.objects.update(status="failed", checks=failed)
    page = admin_client.get(verify_url).content.decode()
    buttons = page.split('class="btn')[1:]
    main = [b.split("</")[0] for b in buttons if b.startswith(' btn-primary"')]
    assert len(main) == 1
    assert "Verify again" in main[0]
    assert 'name="role_arn"' in page

    bad = admin_client.post(verify_url, {"role_arn": "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x"})
    assert "IAM role ARN like" in bad.content.decode()
    assert VerificationRun.objects.count() == 1
    arn = "arn:aws:iam::123456789012:role/sluice-reader"
    assert admin_client.post(verify_url, {"role_arn": arn}).status_code == 302
    assert VerificationRun.objects.count() == 2
    assert VerificationRun.objects.latest("id").config["role_arn"] == arn
