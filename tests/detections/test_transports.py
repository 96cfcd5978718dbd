"""Every transport's data goes through the rules: an HTTP push (answered once committed, alert
included) and an SQS queue of raw events, read by the workers of ./run."""

import pytest

from detections.models import Alert, Match
from tests.conftest import wait_until
from tests.ingestion.conftest import queue_is_empty
from tests.ingestion.test_push import http_source, post  # noqa: F401 - a fixture

from .conftest import body, harmless, root_login


@pytest.mark.django_db
def test_an_http_push_raises_its_alert_before_the_answer_and_a_retry_adds_nothing(
    client,
    http_source,  # noqa: F811
    rules_dir,
):
    data = body([root_login(0), harmless(1)])
    for _ in range(2):  # the client retries the same body
        answer = post(client, http_source, data)
        assert answer.status_code == 200, answer.content
    assert Alert.objects.get().event_count == 1
    assert Match.objects.count() == 1


@pytest.mark.e2e
def test_raw_events_from_sqs_raise_alerts(workers, sqs_source, rules_dir, monkeypatch):
    from ingestion.tasks import poll_source

    source, sqs, queue_url = sqs_source
    monkeypatch.setenv("SLUICE_RULES_DIRS", str(rules_dir))
    workers.start()
    sqs.send_message(QueueUrl=queue_url, MessageBody=body([root_login(0), harmless(1)]).decode())
    sqs.send_message(QueueUrl=queue_url, MessageBody=body([root_login(20)]).decode())
    passes = []

    def settled() -> bool:
        if queue_is_empty(sqs, queue_url) and Match.objects.count() == 2:
            return True
        if not passes or passes[-1].ready():
            passes.append(poll_source.delay(source.pk))
        return False

    wait_until(settled, timeout=90, interval=0.5, what="both messages to be read")
    assert [a.event_count for a in Alert.objects.all()] == [2]
