"""The schema tester's samples from an S3 source: the first object under a prefix that fits."""

import gzip

import pytest

from sources import aws as aws_clients
from sources.samples import read_s3_sample, s3_choices
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket_source(aws):
    s3 = aws_clients.client("s3", region="us-east-1")
    s3.create_bucket(Bucket="samples")
    s3.put_object(Bucket="samples", Key="app/2026/a.json.gz", Body=gzip.compress(b'{"a":1}\n'))
    s3.put_object(Bucket="samples", Key="app/2026/b.json", Body=b'{"b":2}\n' * 1000)
    return SourceFactory(
        name="app-logs",
        transport="s3",
        config={"bucket": "samples", "account_id": "123456789012", "region": "us-east-1"},
    )


def test_s3_sources_are_the_choices(bucket_source):
    assert s3_choices() == [(str(bucket_source.pk), "app-logs (s3://samples)")]


def test_the_first_object_under_the_prefix_that_fits(bucket_source):
    key, body = read_s3_sample(str(bucket_source.pk), "app/", 1000)
    assert key == "app/2026/a.json.gz"
    assert gzip.decompress(body) == b'{"a":1}\n'


def test_nothing_that_fits_is_a_message(bucket_source):
    with pytest.raises(ValueError, match="no object of 1 to 10 bytes under s3://samples/app/"):
        read_s3_sample(str(bucket_source.pk), "app/", 10)
    with pytest.raises(ValueError, match="pick one of the S3 sources"):
        read_s3_sample("not-a-number", "", 1000)
