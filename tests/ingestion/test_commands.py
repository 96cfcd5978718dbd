"""`manage.py ingest SOURCE --once` and `manage.py ingest-file SOURCE PATH...`."""

import gzip
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from devtools.generate import generate_lines
from events.models import Event, Failure
from ingestion.models import Checkpoint, ObjectLedger
from sources import aws as aws_module
from tests.conftest import ROOT, worker_env
from tests.factories import SourceFactory

BUCKET = "teleport-listing"


def lines(count: int, seed: int) -> bytes:
    return b"\n".join(generate_lines(count, seed)) + b"\n"


@pytest.fixture
def listing_source(db, aws):
    s3 = aws_module.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    source = SourceFactory(
        config={
            "bucket": BUCKET,
            "region": "us-east-1",
            "prefixes": [{"prefix": "teleport/", "log_types": [], "exclude": ["*.tmp"]}],
            "discovery": "listing",
        }
    )
    return source, s3


def test_ingest_once_lists_the_bucket_and_reads_each_new_object_once(listing_source, capsys):
    source, s3 = listing_source
    s3.put_object(
        Bucket=BUCKET, Key="teleport/2026/11/27/01/a.json.gz", Body=gzip.compress(lines(30, 1))
    )
    s3.put_object(Bucket=BUCKET, Key="teleport/2026/11/27/02/b.json", Body=lines(20, 2) + b"oops\n")
    s3.put_object(Bucket=BUCKET, Key="teleport/2026/11/27/02/c.tmp", Body=lines(5, 3))

    call_command("ingest", source.name, "--once")
    call_command("ingest", str(source.pk), "--once")

    assert Event.objects.filter(source=source).count() == 50
    assert Failure.objects.filter(source=source).count() == 1
    assert ObjectLedger.objects.filter(status="done").count() == 2
    checkpoint = Checkpoint.objects.get(source=source, prefix="teleport/")
    assert checkpoint.start_after == "teleport/2026/11/27/02/c.tmp"
    out = capsys.readouterr().out
    assert "a.json.gz: done, 30 events" in out
    assert "0 objects read" in out  # the second pass found nothing new


def test_ingest_names_an_unknown_source(db):
    with pytest.raises(CommandError, match="no source named 'nope'"):
        call_command("ingest", "nope", "--once")


def test_ingest_file_loads_local_files_and_loading_again_adds_nothing(db, tmp_path, capsys):
    source = SourceFactory()
    plain = tmp_path / "audit.log"
    plain.write_bytes(lines(10, 4) + b'{"broken": \n')
    packed = tmp_path / "audit.json.gz"
    packed.write_bytes(gzip.compress(lines(15, 5)))

    call_command("ingest_file", source.name, str(plain), str(packed))
    call_command("ingest_file", source.name, str(packed))

    assert Event.objects.filter(source=source).count() == 25
    assert Failure.objects.get().raw_text == '{"broken": '
    out = capsys.readouterr().out
    assert "audit.json.gz: 15 events (0 new, 15 already stored), 0 failed lines" in out


def test_ingest_file_refuses_a_missing_path(db, tmp_path):
    source = SourceFactory()
    with pytest.raises(CommandError, match="not a file"):
        call_command("ingest_file", source.name, str(tmp_path / "missing.log"))


def test_manage_py_takes_the_readme_spelling_ingest_file(transactional_db, tmp_path):
    source = SourceFactory()
    path = tmp_path / "audit.log"
    path.write_bytes(lines(5, 6))

    done = subprocess.run(
        [sys.executable, "manage.py", "ingest-file", source.name, str(path)],
        cwd=ROOT,
        env={**os.environ, **worker_env()},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "audit.log: 5 events (5 new, 0 already stored), 0 failed lines" in done.stdout
    assert Event.objects.filter(source=source).count() == 5
