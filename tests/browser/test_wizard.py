"""In a real browser against moto and a Celery worker: the Create New wizard for S3 and SQS sources,
with a failing verification whose message is shown, fixed, and re-checked to green."""

import gzip
import re

import pytest
from playwright.sync_api import expect

from sources import aws as aws_clients
from sources.models import Source

BUCKET = "sluice-demo-logs"
TELEPORT_LINE = b'{"event":"user.login","code":"T1000I","time":"2026-11-27T10:00:00Z"}\n'
VERIFY_TIMEOUT = 30_000

pytestmark = pytest.mark.e2e


@pytest.fixture
def shot(screenshots):
    """shot(page, name): a screenshot of the step, wizard-<name>.png."""

    def take(page, name: str) -> None:
        page.screenshot(path=str(screenshots / f"wizard-{name}.png"), full_page=True)

    return take


@pytest.fixture
def demo_bucket(aws):
    s3 = aws_clients.client("s3", region="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET,
        Key="teleport/logs/2026/11/27/10/a1.json.gz",
        Body=gzip.compress(TELEPORT_LINE * 5),
    )
    return BUCKET


def test_s3_wizard_from_tiles_to_a_green_verification(
    signed_in_page, live_server, celery_worker, demo_bucket, shot
):
    page = signed_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/sources/")
    page.get_by_role("link", name="Create New").first.click()

    # Step 1: tiles filter as you type, with a URL you can share
    search = page.get_by_label("Search log types")
    search.fill("telep")
    expect(page.locator("#tiles .tile")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/sources/new/\?q=telep"))
    shot(page, "1-log-types")
    tile = page.get_by_role("link", name=re.compile(r"^Teleport"))
    tile.focus()
    page.keyboard.press("Enter")  # tiles are links: the keyboard opens them

    # Overview, then Start Setup with S3
    expect(page.get_by_role("heading", name="Teleport")).to_be_visible()
    expect(page.get_by_text("Start Setup")).to_be_visible()
    shot(page, "2-overview")
    page.get_by_role("link", name=re.compile("AWS S3 Bucket")).click()

    # Step 2: inline validation as fields are left
    page.get_by_label("Name", exact=True).fill("teleport-prod")
    account = page.get_by_label("AWS Account ID")
    account.fill("1234567890123")
    account.press("Tab")
    expect(page.locator("#wrap-account_id .errorlist")).to_contain_text(
        "An AWS account ID is exactly 12 digits"
    )
    page.get_by_label("Bucket name").fill("Bad_Bucket")
    page.get_by_label("Bucket name").press("Tab")
    expect(page.locator("#wrap-bucket .errorlist")).to_contain_text("not a valid S3 bucket name")
    shot(page, "3-configure-s3-errors")
    page.get_by_label("AWS Account ID").fill("123456789012")
    page.get_by_label("Bucket name").fill(BUCKET)
    page.get_by_label("Bucket name").press("Tab")
    expect(page.locator("#wrap-bucket .errorlist")).to_have_count(0)
    page.get_by_role("textbox", name="Prefix (optional)").fill(
        "telport/"
    )  # a typo the checks catch
    page.get_by_label("List the bucket every N minutes").check()
    expect(page.get_by_label("Notification queue URL")).to_be_hidden()
    shot(page, "3-configure-s3")
    page.get_by_role("button", name="Continue to permissions").click()

    # Step 3: IAM templates with copy and download
    expect(page.get_by_role("heading", name="Grant read-only access")).to_be_visible()
    expect(page.locator("#cfn-text")).to_contain_text("AWS::IAM::Role")
    expect(page.locator("#tf-text")).to_contain_text('resource "aws_iam_role" "sluice_reader"')
    copy = page.locator("[data-copy=cfn-text]")
    copy.click()
    expect(copy).to_have_text("Copied")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").first.click()
    assert download.value.suggested_filename == "sluice-teleport-prod-cloudformation.yml"
    shot(page, "4-permissions")
    page.get_by_role("link", name="Continue to verification").click()

    # Step 4: the checks start on arrival; the wrong prefix fails with its message
    verification = page.locator(".verification")
    expect(verification).to_have_attribute("data-status", "failed", timeout=VERIFY_TIMEOUT)
    expect(verification).to_contain_text("No object under prefix 'telport/' — check the prefix")
    expect(page.locator(".check-ok")).to_have_count(2)
    # the buttons follow the result: Verify again leads, and a role ARN can be pasted here
    expect(page.get_by_role("button", name="Verify again", exact=True)).to_have_class(
        re.compile("btn-primary")
    )
    expect(page.get_by_role("link", name="Continue to finish")).not_to_have_class(
        re.compile("btn-primary")
    )
    expect(page.get_by_label(re.compile("Role ARN"))).to_be_visible()
    shot(page, "5-verify-failed")

    # Fix the prefix and re-check to green
    page.get_by_role("link", name="Edit settings").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("teleport-prod")
    page.get_by_role("textbox", name="Prefix (optional)").fill("teleport/")
    page.get_by_role("button", name="Continue to permissions").click()
    page.get_by_role("link", name="Continue to verification").click()
    expect(verification).to_have_attribute("data-status", "passed", timeout=VERIFY_TIMEOUT)
    expect(verification).to_contain_text("Read teleport/logs/2026/11/27/10/a1.json.gz")
    expect(page.locator(".check-fail")).to_have_count(0)
    shot(page, "6-verify-passed")

    # Step 5: finish with a drop-off alarm
    page.get_by_role("link", name="Continue to finish").click()
    expect(page.get_by_text("s3://sluice-demo-logs")).to_be_visible()
    page.get_by_label("Mark the source unhealthy when no data arrives for").check()
    page.get_by_label("Amount").fill("2")
    page.get_by_label("Unit").select_option("hours")
    shot(page, "7-finish")
    page.get_by_role("button", name="Save source").click()

    expect(page.get_by_role("heading", name="teleport-prod")).to_be_visible()
    expect(page.get_by_test_id("health")).to_have_text("Waiting for data")
    source = Source.objects.get(name="teleport-prod")
    assert source.alarm_minutes == 120
    assert source.config["prefixes"][0]["prefix"] == "teleport/"
    shot(page, "8-source-page")

    page.get_by_role("link", name="Health").click()
    expect(page.locator(".verification")).to_have_attribute("data-status", "passed")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Log Sources")
    ).click()
    row = page.locator("tr[data-source=teleport-prod]")
    expect(row).to_contain_text("AWS S3 Bucket")
    expect(row).to_contain_text("Waiting for data")
    shot(page, "9-log-sources")


def test_sqs_wizard_with_a_missing_queue_fixed_then_verified(
    signed_in_page, live_server, celery_worker, aws, shot
):
    page = signed_in_page
    page.goto(f"{live_server.url}/sources/new/Gravitational.TeleportAudit/")
    page.get_by_role("link", name=re.compile("Amazon SQS")).click()

    queue_url = f"{aws}/123456789012/teleport-raw-events"
    page.get_by_label("Name", exact=True).fill("teleport-sqs")
    page.get_by_label("Queue URL").fill(queue_url)
    page.get_by_label("Stream type").select_option("lines")
    shot(page, "sqs-1-configure")
    page.get_by_role("button", name="Continue to permissions").click()
    expect(page.locator("#cfn-text")).to_contain_text("sqs:ReceiveMessage")
    page.get_by_role("link", name="Continue to verification").click()

    verification = page.locator(".verification")  # started on arrival
    expect(verification).to_have_attribute("data-status", "failed", timeout=VERIFY_TIMEOUT)
    expect(verification).to_contain_text(
        f"Queue {queue_url} does not exist — check the URL and the region."
    )
    shot(page, "sqs-2-verify-failed")

    aws_clients.client("sqs", region="us-east-1").create_queue(QueueName="teleport-raw-events")
    page.get_by_role("button", name="Verify again", exact=True).click()
    expect(page.locator(".verification")).to_have_attribute(
        "data-status", "passed", timeout=VERIFY_TIMEOUT
    )
    shot(page, "sqs-3-verify-passed")
    page.get_by_role("link", name="Continue to finish").click()
    page.get_by_role("button", name="Save source").click()
    expect(page.get_by_test_id("health")).to_have_text("Waiting for data")

    page.goto(f"{live_server.url}/sources/")
    expect(page.locator("tr[data-source=teleport-sqs]")).to_contain_text("Amazon SQS")
