"""Verification runs real boto3 checks against a moto server; each failure says what to fix."""

import gzip
import json

import pytest

from sources import aws as aws_clients
from sources import services, transports
from sources.models import Source, VerificationRun
from sources.tasks import run_verification
from tests.conftest import wait_until
from tests.factories import SourceFactory
from tests.sources.conftest import ACCOUNT, BUCKET, TELEPORT


def s3_config(**overrides) -> dict:
    config = {
        "account_id": ACCOUNT,
        "bucket": BUCKET,
        "region": "us-east-1",
        "kms_key_arn": "",
        "role_arn": "",
        "prefixes": [{"prefix": "teleport/", "log_types": [TELEPORT], "exclude": []}],
        "stream_type": "auto",
        "envelope": "",
        "discovery": "listing",
        "queue_url": "",
        "list_interval_minutes": 5,
    }
    config.update(overrides)
    return config


def results(transport: str, config: dict) -> dict[str, dict]:
    tr = transports.get(transport)
    return {r.name: r.as_dict() for r in tr.verify(tr.settings(config))}


def test_a_readable_bucket_passes_every_check(bucket):
    checks = results("s3", s3_config())
    assert list(checks) == ["Bucket exists", "Bucket region", "Prefix 'teleport/': read one object"]
    assert all(c["ok"] for c in checks.values()), checks
    assert (
        "Read teleport/2026/11/27/10/events.json.gz"
        in checks["Prefix 'teleport/': read one object"]["message"]
    )


def test_a_missing_bucket_says_so_and_skips_the_checks_that_need_it(aws):
    checks = results("s3", s3_config(bucket="no-such-bucket"))
    exists = checks["Bucket exists"]
    assert exists["ok"] is False
    assert exists["message"] == (
        f"Bucket no-such-bucket does not exist in account {ACCOUNT} — check the name."
    )
    assert "404" in exists["error"]
    assert checks["Bucket region"]["ok"] is None
    assert checks["Bucket region"]["message"].startswith("Skipped")


def test_a_wrong_prefix_or_region_or_exclusion_is_named(bucket):
    config = s3_config(
        region="eu-west-1",
        prefixes=[
            {"prefix": "telport/", "log_types": [TELEPORT], "exclude": []},
            {"prefix": "teleport/", "log_types": [TELEPORT], "exclude": ["*.gz"]},
        ],
    )
    checks = results("s3", config)
    assert checks["Bucket region"]["message"] == (
        f"Bucket {BUCKET} is in us-east-1, not eu-west-1 — choose us-east-1 as the region."
    )
    assert checks["Prefix 'telport/': read one object"]["message"].startswith(
        "No object under prefix 'telport/' — check the prefix"
    )
    excluded = checks["Prefix 'teleport/': read one object"]["message"]
    assert "check the prefix and the exclusion filters" in excluded


def test_kms_key_must_exist_and_be_enabled(bucket):
    kms = aws_clients.client("kms", region="us-east-1")
    key = kms.create_key()["KeyMetadata"]
    assert results("s3", s3_config(kms_key_arn=key["Arn"]))["KMS key"]["ok"] is True
    kms.disable_key(KeyId=key["KeyId"])
    disabled = results("s3", s3_config(kms_key_arn=key["Arn"]))["KMS key"]
    assert disabled["ok"] is False
    assert "is Disabled — enable it" in disabled["message"]
    missing = key["Arn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    gone = results("s3", s3_config(kms_key_arn=missing))["KMS key"]
    assert "cannot be described" in gone["message"]
    assert gone["error"]


def test_notifications_need_a_reachable_queue_the_bucket_points_at(bucket, queue_url):
    config = s3_config(discovery="notifications", queue_url=queue_url)
    checks = results("s3", config)
    assert checks["Notification queue reachable"]["ok"] is True
    pointing = checks["Bucket notifications point at the queue"]
    assert pointing["ok"] is False
    assert "sends no ObjectCreated notifications" in pointing["message"]

    sqs = aws_clients.client("sqs", region="us-east-1")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws_clients.client("s3").put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    assert results("s3", config)["Bucket notifications point at the queue"]["ok"] is True


def test_assuming_a_role_comes_first(bucket):
    role = aws_clients.client("iam").create_role(
        RoleName="sluice-reader", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    checks = results("s3", s3_config(role_arn=role))
    assert next(iter(checks)) == "Assume role"
    assert checks["Assume role"]["message"] == f"Assumed role {role}."
    assert all(c["ok"] for c in checks.values())


def test_sqs_queue_and_its_policy(aws, queue_url):
    config = {"queue_url": queue_url, "region": "us-east-1", "role_arn": ""}
    checks = results("sqs", config)
    assert checks["Queue reachable"]["ok"] is True
    assert checks["Queue policy"]["message"].startswith("No queue policy")

    wanted = {**config, "allowed_principal_arns": ["arn:aws:iam::210987654321:root"]}
    policy = results("sqs", wanted)["Queue policy"]
    assert policy["ok"] is False
    assert "arn:aws:iam::210987654321:root cannot send" in policy["message"]

    missing = results("sqs", {**config, "queue_url": queue_url + "-missing"})
    assert missing["Queue reachable"]["ok"] is False
    assert "does not exist — check the URL and the region" in missing["Queue reachable"]["message"]
    assert missing["Queue policy"]["ok"] is None


def test_the_task_stores_each_check_and_sets_the_source_unhealthy_with_the_reason(aws, db):
    source = SourceFactory(config=s3_config(bucket="no-such-bucket"))
    run = VerificationRun.objects.create(source=source, transport="s3", config=source.config)
    assert run_verification(run.pk) == "failed"
    run.refresh_from_db()
    assert run.done
    assert run.finished_at
    assert [c["name"] for c in run.checks][:2] == ["Bucket exists", "Bucket region"]
    source.refresh_from_db()
    assert source.health == Source.Health.UNHEALTHY
    assert source.health_reason.startswith("Bucket exists: Bucket no-such-bucket does not exist")


@pytest.mark.e2e
def test_a_celery_worker_runs_the_checks_and_a_fixed_bucket_turns_green(celery_worker):
    source = SourceFactory(config=s3_config())
    run = services.start_verification(transport="s3", config=source.config, source=source)
    wait_until(lambda: VerificationRun.objects.get(pk=run.pk).done, what="verification run")
    source.refresh_from_db()
    assert source.health == Source.Health.UNHEALTHY
    assert "does not exist" in source.health_reason

    s3 = aws_clients.client("s3", region="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="teleport/a.json.gz", Body=gzip.compress(b"{}\n"))
    again = services.start_verification(transport="s3", config=source.config, source=source)
    wait_until(lambda: VerificationRun.objects.get(pk=again.pk).done, what="second run")
    assert VerificationRun.objects.get(pk=again.pk).status == "passed"
    source.refresh_from_db()
    assert source.health == Source.Health.WAITING
    assert source.health_reason == ""


NO_WORKER = (
    "No worker serves verifications — start the workers (<code>./run</code> starts them), "
    "then verify again."
)


@pytest.fixture
def interactive_queue(settings):
    """The interactive queue in Redis, empty; what a test puts there is removed afterwards."""
    from sources import runtime

    runtime.connection().delete("interactive")
    yield "interactive"
    runtime.connection().delete("interactive")


def status_html(client, run) -> str:
    from django.urls import reverse

    return client.get(reverse("sources:verification", args=[run.pk])).content.decode()


def test_a_queued_run_with_no_worker_on_its_queue_says_so_and_keeps_looking(
    admin_client, worker_registry
):
    worker_registry.announce("ingest@host", ["ingest"])  # a worker, but not for verifications
    run = VerificationRun.objects.create(transport="s3", config=s3_config())

    page = status_html(admin_client, run)

    assert NO_WORKER in page
    assert 'hx-trigger="every 5s"' in page  # the run starts by itself once a worker does


def test_a_queued_run_behind_other_tasks_says_how_many_are_ahead(
    admin_client, worker_registry, interactive_queue
):
    from ingestion.tasks import check_health

    worker_registry.announce("interactive@host", ["interactive"], concurrency=1, active=1)
    check_health.delay()
    check_health.delay()
    run = VerificationRun.objects.create(transport="s3", config=s3_config())
    run_verification.delay(run.pk)
    check_health.delay()  # queued after the run: not ahead of it

    page = status_html(admin_client, run)

    assert "Waiting for a worker (2 tasks ahead)" in page
    assert 'hx-trigger="every 1s"' in page
    assert NO_WORKER not in page


def test_a_run_whose_worker_died_mid_way_stops_polling_and_says_why(admin_client, worker_registry):
    from datetime import timedelta

    from django.utils import timezone

    worker_registry.announce_layout()
    run = VerificationRun.objects.create(
        transport="s3",
        config=s3_config(),
        status="running",
        started_at=timezone.now() - timedelta(minutes=10),
    )

    page = status_html(admin_client, run)

    assert "hx-trigger" not in page
    assert "The worker running these checks stopped before it finished — verify again." in page


def test_a_long_queued_run_gone_from_a_served_queue_is_lost(
    admin_client, worker_registry, interactive_queue
):
    from datetime import timedelta

    from django.utils import timezone

    worker_registry.announce_layout()
    run = VerificationRun.objects.create(transport="s3", config=s3_config())
    VerificationRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    page = status_html(admin_client, run)

    assert "hx-trigger" not in page
    assert "These checks left the queue but never started — verify again." in page


@pytest.fixture
def sqs_queues(aws):
    """make(n): n empty queues on moto, by URL."""
    sqs = aws_clients.client("sqs", region="us-east-1")
    return lambda n: [sqs.create_queue(QueueName=f"idle-{i}")["QueueUrl"] for i in range(n)]


@pytest.mark.e2e
def test_a_verification_behind_busy_workers_waits_and_says_so_then_runs(
    celery_worker, admin_client, sqs_queues
):
    """The real layout: every interactive process is busy (long polls of empty queues, run on the
    interactive queue on purpose), two more tasks wait, then the verification: the page says it
    waits for a worker with 2 tasks ahead, and the run finishes once the processes are free. With
    the layout stopped, the page says no worker serves verifications."""
    from ingestion.tasks import poll_source
    from sources import runtime

    (interactive,) = runtime.serving("interactive")
    busy = [
        SourceFactory(transport="sqs", config={"queue_url": url, "region": "us-east-1"})
        for url in sqs_queues(interactive.concurrency + 2)
    ]
    for source in busy:
        poll_source.apply_async((source.pk,), queue="interactive")
    wait_until(
        lambda: (
            runtime.queue_depth("interactive") == 2
            and runtime.serving("interactive")[0].active == interactive.concurrency
        ),
        what="every interactive process busy, two tasks waiting",
    )
    source = SourceFactory(config=s3_config())
    run = VerificationRun.objects.create(source=source, transport="s3", config=source.config)
    run_verification.delay(run.pk)

    assert "Waiting for a worker (2 tasks ahead)" in status_html(admin_client, run)
    wait_until(
        lambda: VerificationRun.objects.get(pk=run.pk).done, timeout=90, what="the verification"
    )

    celery_worker.stop()
    again = VerificationRun.objects.create(source=source, transport="s3", config=source.config)
    run_verification.delay(again.pk)
    assert NO_WORKER in status_html(admin_client, again)


def test_a_source_saved_while_its_checks_run_gets_their_result(aws, db):
    run = VerificationRun.objects.create(transport="s3", config=s3_config(bucket="no-such-bucket"))
    source = services.create_source(
        name="saved-early",
        transport="s3",
        log_types=[TELEPORT],
        config=run.config,
        verification=run,
    )
    assert source.health == Source.Health.WAITING
    run_verification(run.pk)
    source.refresh_from_db()
    assert source.health == Source.Health.UNHEALTHY
    assert "no-such-bucket does not exist" in source.health_reason


@pytest.mark.django_db
def test_the_badge_counts_failed_checks_and_skipped_ones_apart(admin_client):
    checks = [
        {"name": "Bucket exists", "ok": False, "message": "No such bucket", "at": "t"},
        {"name": "Read an object", "ok": None, "message": "Skipped", "at": "t"},
        {"name": "Decrypt", "ok": None, "message": "Skipped", "at": "t"},
    ]
    run = VerificationRun.objects.create(
        transport="s3", config=s3_config(), status="failed", checks=checks
    )
    assert [check["name"] for check in run.failed_checks] == ["Bucket exists"]
    html = admin_client.get(f"/sources/verifications/{run.pk}/").content.decode()
    assert "1 check failed, 2 skipped" in html
    assert "3 checks failed" not in html
