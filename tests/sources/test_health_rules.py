"""The health rules, one by one: `decide(facts)` is pure, so each rule is a fact changed from a
healthy source. The first rule that holds wins (sources/health.py lists their order)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sources.health import (
    Backlog,
    FailedVerification,
    Rule,
    SourceFacts,
    StageErrorFact,
    decide,
    duration,
    is_parse_warning,
    queues_sentence,
)
from sources.transports.base import Activity

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def ago(**kw) -> datetime:
    return NOW - timedelta(**kw)


def healthy_queue_source(**changes) -> SourceFacts:
    """An SQS source a day old: events a minute ago, a receive 5 s ago, workers on every queue."""
    facts = SourceFacts(
        now=NOW,
        created_at=ago(days=1),
        changed_at=ago(days=1),
        last_event_at=ago(minutes=1),
        alarm_minutes=60,
        activity=Activity(receiving="Receiving from the queue", reading="Reading messages"),
        receive_period=timedelta(seconds=30),
        backlog=Backlog(queue=True, visible=2, in_flight=1, last_receive_at=ago(seconds=5)),
    )
    return replace(facts, **changes)


def healthy_listing_source(**changes) -> SourceFacts:
    """An S3 source listing its bucket every 5 minutes, listed 2 minutes ago."""
    facts = healthy_queue_source(
        activity=Activity(receiving="Listing the bucket"),
        receive_period=timedelta(minutes=5),
        lists=True,
        backlog=Backlog(last_receive_at=ago(minutes=2)),
    )
    return replace(facts, **changes)


def with_backlog(facts: SourceFacts, **changes) -> SourceFacts:
    return replace(facts, backlog=replace(facts.backlog, **changes))


def error(stage: str, message: str, at: datetime) -> tuple[StageErrorFact, ...]:
    return (StageErrorFact(stage=stage, message=message, at=at),)


# --- healthy and waiting ----------------------------------------------------------------------
def test_a_source_with_recent_data_and_nothing_wrong_is_healthy_with_nothing_to_say():
    assert decide(healthy_queue_source()) == ("healthy", "", Rule.OK)
    assert decide(healthy_listing_source()) == ("healthy", "", Rule.OK)


def test_a_source_without_any_event_yet_and_nothing_wrong_is_waiting_for_data():
    facts = healthy_queue_source(last_event_at=None, created_at=ago(minutes=10), changed_at=None)
    assert decide(facts) == ("waiting", "", Rule.WAITING)


# --- 1. paused --------------------------------------------------------------------------------
def test_paused_wins_over_every_problem():
    broken = healthy_queue_source(
        paused=True, receive_served=False, last_event_at=ago(days=3), backlog=Backlog(queue=True)
    )
    health, reason, rule = decide(broken)
    assert (health, rule) == ("paused", Rule.PAUSED)
    assert reason == "Paused: nothing is received or read until it is resumed."


# --- 2. a failed verification -----------------------------------------------------------------
def test_a_failed_verification_makes_the_source_unhealthy_with_its_first_failure():
    failed = FailedVerification(
        "Bucket exists: Bucket nope does not exist in account 123456789012 — check the name.",
        finished_at=ago(minutes=2),
    )
    facts = healthy_queue_source(failed_verification=failed, last_event_at=ago(minutes=10))
    assert decide(facts) == ("unhealthy", failed.reason, Rule.VERIFICATION)


def test_data_stored_after_a_failed_verification_proves_the_source_works():
    failed = FailedVerification("Bucket region: wrong region", finished_at=ago(minutes=5))
    assert decide(healthy_queue_source(failed_verification=failed)).health == "healthy"


# --- 3. no worker -----------------------------------------------------------------------------
def test_no_worker_on_the_ingest_queue_says_which_and_what_to_do():
    verdict = decide(healthy_queue_source(ingest_served=False))
    assert verdict == (
        "unhealthy",
        "No worker serves the ingest queue: start one (./run starts them).",
        Rule.NO_WORKER,
    )


def test_no_worker_on_the_receive_queue():
    verdict = decide(healthy_listing_source(receive_served=False))
    assert verdict.reason == "No worker serves the receive queue: start one (./run starts them)."


def test_no_worker_at_all_names_both_queues():
    verdict = decide(healthy_queue_source(receive_served=False, ingest_served=False))
    assert verdict.reason == (
        "No worker serves the receive and ingest queues: start them (./run starts them)."
    )


def test_no_worker_is_said_before_what_follows_from_it():
    facts = healthy_queue_source(ingest_served=False, last_event_at=ago(hours=5))
    assert decide(facts).rule == Rule.NO_WORKER


# --- 4. receiving fails -----------------------------------------------------------------------
def test_a_receive_error_makes_a_queue_source_unhealthy_even_while_data_still_arrives():
    message = "ClientError: An error occurred (AccessDenied) when calling the ReceiveMessage"
    facts = healthy_queue_source(stage_errors=error("receive", message, ago(minutes=3)))
    assert decide(facts) == (
        "unhealthy",
        f"Receiving from the queue fails: {message}",
        Rule.RECEIVE_ERROR,
    )


def test_a_listing_error_says_listing_the_bucket_fails():
    facts = healthy_listing_source(stage_errors=error("receive", "NoSuchBucket: gone", NOW))
    assert decide(facts).reason == "Listing the bucket fails: NoSuchBucket: gone"


def test_long_aws_messages_are_cut_to_one_line():
    facts = healthy_listing_source(stage_errors=error("receive", "x\n" * 1000, NOW))
    reason = decide(facts).reason
    assert "\n" not in reason
    assert len(reason) <= 400


# --- 5. an object stage fails -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("stage", "label"),
    [("get_object", "Reading objects"), ("store", "Storing events"), ("parse", "Parsing")],
)
def test_an_object_stage_error_with_no_event_stored_since_makes_it_unhealthy(stage, label):
    facts = healthy_listing_source(
        last_event_at=ago(minutes=10), stage_errors=error(stage, "AccessDenied: k", ago(minutes=1))
    )
    assert decide(facts) == ("unhealthy", f"{label} fails: AccessDenied: k", Rule.STAGE_ERROR)


def test_reading_messages_is_the_sqs_sources_object_stage():
    facts = healthy_queue_source(
        last_event_at=None, stage_errors=error("get_object", "too large", ago(minutes=1))
    )
    assert decide(facts).reason == "Reading messages fails: too large"


def test_events_stored_after_a_stage_error_prove_the_pipeline_works_again():
    facts = healthy_listing_source(stage_errors=error("store", "deadlock", ago(minutes=30)))
    assert decide(facts).health == "healthy"


def test_some_lines_that_did_not_parse_are_a_warning_on_a_healthy_source():
    message = "3 of 400 lines of teleport/a.json.gz did not parse (see Failures)"
    facts = healthy_listing_source(stage_errors=error("parse", message, ago(seconds=10)))
    assert decide(facts) == ("healthy", message + ".", Rule.OK)


def test_no_line_parsing_at_all_is_a_broken_pipeline():
    message = "400 of 400 lines of teleport/a.json.gz did not parse (see Failures)"
    facts = healthy_listing_source(stage_errors=error("parse", message, ago(seconds=10)))
    assert decide(facts) == ("unhealthy", f"Parsing fails: {message}", Rule.STAGE_ERROR)


def test_a_corrupt_object_is_a_parse_error_not_a_warning():
    message = "cannot read teleport/a.json.gz: BadGzipFile: Not a gzipped file (after 0 events)"
    assert not is_parse_warning(message)
    assert is_parse_warning("1 of 2 lines of k did not parse (see Failures)")
    assert not is_parse_warning("2 of 2 lines of k did not parse (see Failures)")


# --- 6. the backlog cannot be read ------------------------------------------------------------
def test_a_queue_whose_backlog_cannot_be_read_is_unhealthy_with_the_aws_error():
    facts = with_backlog(
        healthy_queue_source(),
        visible=None,
        in_flight=None,
        error="AccessDenied: not authorized to perform sqs:GetQueueAttributes",
    )
    assert decide(facts) == (
        "unhealthy",
        "Cannot read the queue's backlog: AccessDenied: not authorized to perform "
        "sqs:GetQueueAttributes",
        Rule.BACKLOG_UNKNOWN,
    )


# --- 7. receiving has not run for a while -----------------------------------------------------
def test_a_queue_not_received_for_three_periods_is_unhealthy_and_says_what_waits():
    facts = with_backlog(healthy_queue_source(), last_receive_at=ago(minutes=4), visible=120)
    assert decide(facts) == (
        "unhealthy",
        "No receive from the queue has answered for 4 minutes (expected every 30 s); "
        "120 messages wait in the queue.",
        Rule.RECEIVE_OVERDUE,
    )


def test_a_queue_received_within_three_periods_is_fine():
    facts = with_backlog(healthy_queue_source(), last_receive_at=ago(seconds=80))
    assert decide(facts).health == "healthy"


def test_a_bucket_not_listed_for_three_intervals_is_unhealthy():
    facts = with_backlog(healthy_listing_source(), last_receive_at=ago(minutes=16))
    assert decide(facts).reason == (
        "The bucket has not been listed for 16 minutes (expected every 5 minutes)."
    )
    fine = with_backlog(healthy_listing_source(), last_receive_at=ago(minutes=14))
    assert decide(fine).health == "healthy"


def test_a_source_never_received_counts_from_when_it_was_set_up():
    facts = healthy_queue_source(
        created_at=ago(minutes=10),
        changed_at=ago(minutes=10),
        last_event_at=None,
        backlog=Backlog(queue=True, visible=5, in_flight=0),
    )
    assert decide(facts) == (
        "unhealthy",
        "No receive from the queue has answered since it was set up for 10 minutes "
        "(expected every 30 s); 5 messages wait in the queue.",
        Rule.RECEIVE_OVERDUE,
    )


def test_a_source_just_resumed_gets_a_period_to_receive_again():
    facts = with_backlog(
        healthy_queue_source(changed_at=ago(seconds=20)), last_receive_at=ago(hours=2)
    )
    assert decide(facts).health == "healthy"


def test_receivers_held_back_by_a_full_ingest_queue_are_unhealthy_only_after_five_minutes():
    held = healthy_queue_source(ingest_depth=45, ingest_high_water=40)
    assert decide(with_backlog(held, last_receive_at=ago(minutes=3))).health == "healthy"
    verdict = decide(with_backlog(held, last_receive_at=ago(minutes=6)))
    assert verdict == (
        "unhealthy",
        "Receiving has been held back for 6 minutes: 45 tasks wait for the ingest workers, "
        "which are not keeping up (add ingest processes).",
        Rule.RECEIVE_OVERDUE,
    )


# --- 8. a backlog older than five minutes -----------------------------------------------------
def test_objects_pending_for_more_than_five_minutes_are_a_backlog():
    facts = with_backlog(
        healthy_listing_source(), objects_pending=3, oldest_pending_at=ago(minutes=6)
    )
    assert decide(facts) == (
        "unhealthy",
        "Backlog: 3 objects wait to be read, the oldest for 6 minutes.",
        Rule.BACKLOG,
    )


def test_the_backlog_reason_says_how_many_tasks_wait_for_the_ingest_workers():
    facts = with_backlog(
        healthy_listing_source(ingest_depth=12), objects_pending=1, oldest_pending_at=ago(hours=3)
    )
    assert decide(facts).reason == (
        "Backlog: 1 object wait to be read, the oldest for 3 hours, with 12 tasks queued for "
        "the ingest workers."
    )


def test_objects_pending_for_less_than_five_minutes_are_normal_work():
    facts = with_backlog(
        healthy_listing_source(), objects_pending=30, oldest_pending_at=ago(minutes=4)
    )
    assert decide(facts).health == "healthy"


def test_messages_that_waited_long_in_sqs_before_a_receive_are_a_backlog():
    facts = with_backlog(healthy_queue_source(), receive_lag=7 * 60, visible=120, in_flight=4)
    assert decide(facts) == (
        "unhealthy",
        "Backlog: messages waited 7 minutes in the queue before they were received "
        "(120 visible, 4 in flight).",
        Rule.BACKLOG,
    )


# --- 9. the drop-off alarm --------------------------------------------------------------------
def test_no_data_for_the_alarm_window_makes_the_source_unhealthy():
    facts = healthy_queue_source(alarm_minutes=30, last_event_at=ago(minutes=45))
    assert decide(facts) == (
        "unhealthy",
        "No data for 30 minutes (last event 2026-12-01 11:15 UTC).",
        Rule.DROP_OFF,
    )


def test_a_source_that_never_received_data_alarms_after_the_window_since_creation():
    facts = healthy_queue_source(
        alarm_minutes=60, last_event_at=None, created_at=ago(hours=2), changed_at=None
    )
    assert decide(facts).reason == (
        "No data received in the 60 minutes since the source was created."
    )


def test_without_an_alarm_a_quiet_source_stays_healthy():
    facts = healthy_queue_source(alarm_minutes=None, last_event_at=ago(days=2))
    assert decide(facts).health == "healthy"


# --- wording helpers --------------------------------------------------------------------------
def test_the_workers_panel_sentence():
    assert queues_sentence([]) == "All queues are served."
    assert queues_sentence(["interactive"]) == (
        "No worker serves the interactive queue: verifications will wait."
    )
    assert queues_sentence(["ingest"]) == (
        "No worker serves the ingest queue: objects and messages are not read."
    )
    assert queues_sentence(["receive", "ingest", "interactive"]) == (
        "No worker serves the receive, ingest and interactive queues: start them "
        "(./run starts them)."
    )


def test_durations_read_as_a_person_says_them():
    assert duration(timedelta(seconds=45)) == "45 s"
    assert duration(timedelta(minutes=7, seconds=5)) == "7 minutes"
    assert duration(timedelta(hours=5)) == "5 hours"
    assert duration(timedelta(days=3)) == "3 days"


def test_the_backlog_snapshot_survives_json_and_reads_in_one_line():
    backlog = Backlog(
        queue=True,
        visible=12,
        in_flight=3,
        objects_pending=2,
        oldest_pending_at=datetime.now(UTC) - timedelta(minutes=6, seconds=10),
        last_receive_at=ago(seconds=5),
        receive_lag=1.5,
        measured_at=NOW,
    )
    assert Backlog.from_json(backlog.as_json()) == backlog
    assert backlog.summary == "12 visible, 3 in flight · 2 objects pending · oldest 6 minutes"
    assert Backlog(objects_pending=0).summary == "nothing waiting"
    assert Backlog.from_json({}) is None
