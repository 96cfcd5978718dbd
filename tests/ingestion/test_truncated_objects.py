"""Truncated or corrupt compressed objects against moto, in-process: every decodable line is
stored, the break is one stored failure, the object is done and not read again. A body the
network cuts short (fewer bytes than Content-Length) is a read error: retried, nothing done."""

import bz2
import http.client
import io
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import zstandard
from botocore.response import StreamingBody

from events.models import Event, Failure
from ingestion.models import ObjectLedger, StageError
from ingestion.process import ingest_object
from sources import aws as aws_module
from sources.models import HourlyStats
from sources.transports.base import ObjectRef

from .conftest import BUCKET, good_lines

pytestmark = pytest.mark.django_db

COMPRESS = {
    "gzip": lambda data: zlib.compress(data, 6, wbits=31),
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
    "bzip2": lambda data: bz2.compress(data, 1),
}
DECODE = {
    "gzip": lambda data: zlib.decompressobj(wbits=31).decompress(data),
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
    "bzip2": lambda data: bz2.BZ2Decompressor().decompress(data),
}
SUFFIX = {"gzip": "gz", "zstd": "zst", "bzip2": "bz2"}


def body_of(count: int, seed: int) -> bytes:
    return b"\n".join(good_lines(count, seed)) + b"\n"


def put(s3, key: str, data: bytes) -> ObjectRef:
    etag = s3.put_object(Bucket=BUCKET, Key=key, Body=data)["ETag"].strip('"')
    return ObjectRef(bucket=BUCKET, key=key, version=etag, size=len(data))


@pytest.mark.parametrize("batch_size", ["5000", "100"])
@pytest.mark.parametrize("compression", sorted(COMPRESS))
def test_a_truncated_object_is_done_with_every_decodable_line_and_one_failure(
    s3_source, s3, compression, batch_size, monkeypatch
):
    monkeypatch.setenv("SLUICE_INGEST_BATCH_SIZE", batch_size)
    data = COMPRESS[compression](body_of(1000, seed=11))
    cut = data[: len(data) // 2]
    decoded = DECODE[compression](cut)  # decoded independently: the lines that can be read
    lines = decoded.count(b"\n")
    tail = decoded[decoded.rfind(b"\n") + 1 :]
    key = f"teleport/2026/11/27/10/cut.json.{SUFFIX[compression]}"
    ref = put(s3, key, cut)

    outcome = ingest_object(s3_source, ref)

    assert (outcome.status, outcome.events, outcome.failures) == ("done", lines, 1)
    assert Event.objects.filter(object_key=key).count() == lines
    (failure,) = Failure.objects.filter(object_key=key)
    assert (failure.line, failure.offset, bytes(failure.raw)) == (lines + 1, len(decoded), tail)
    assert f"{compression} data ends early at decompressed byte {len(decoded)}" in failure.error
    assert f"truncated after {lines} complete lines ({key})" in failure.error
    row = ObjectLedger.objects.get(key=key)
    assert (row.status, row.attempts, row.events, row.failures) == ("done", 1, lines, 1)
    assert row.events + row.failures == lines + 1
    assert row.error == ""
    stage = StageError.objects.get(source=s3_source, stage="parse")
    assert key in stage.message
    assert "the object is truncated" in stage.message
    stats = HourlyStats.objects.filter(source=s3_source)
    assert sum(stats.values_list("events", flat=True)) == lines
    assert sum(stats.values_list("failures", flat=True)) == 1

    assert ingest_object(s3_source, ref).status == "skipped"  # done: not read again
    assert ObjectLedger.objects.get(key=key).attempts == 1


def test_a_corrupt_object_is_done_with_what_came_before_the_damage(s3_source, s3):
    good = body_of(300, seed=12)
    data = COMPRESS["gzip"](good) + b"\x1f\x8b\x08\x00 this member is damaged"
    ref = put(s3, "teleport/2026/11/27/10/corrupt.json.gz", data)

    outcome = ingest_object(s3_source, ref)

    assert (outcome.status, outcome.events, outcome.failures) == ("done", 300, 1)
    failure = Failure.objects.get(object_key=ref.key)
    assert (failure.line, failure.offset, bytes(failure.raw)) == (301, len(good), b"")
    assert "gzip data is corrupt" in failure.error
    assert ObjectLedger.objects.get().status == "done"


def test_a_gz_name_over_other_bytes_still_fails_the_attempt(s3_source, s3):
    ref = put(s3, "teleport/2026/11/27/10/zip.json.gz", b"PK\x03\x04" + bytes(range(200)))
    outcome = ingest_object(s3_source, ref)
    assert outcome.status == "retry"
    assert "is not gzip data" in outcome.error
    assert not Failure.objects.exists()


# --- a body cut by the network -----------------------------------------------------------------


class _CutBodyProxy:
    """An HTTP proxy in front of moto that sends only the first half of every S3 object body
    (GET of a key under `prefix`), announcing the full Content-Length, then closes the
    connection cleanly; everything else is forwarded whole."""

    def __init__(self, upstream: str, prefix: str) -> None:
        self.upstream = urlsplit(upstream)
        self.prefix = prefix
        self.cut = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request_body = self.rfile.read(length) if length else b""
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=request_body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                upstream.close()
                cutting = self.command == "GET" and proxy.prefix in self.path
                cutting = cutting and response.status == 200
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if cutting:
                    proxy.cut += 1
                    self.wfile.write(payload[: len(payload) // 2])
                    self.close_connection = True
                else:
                    self.wfile.write(payload)
                self.wfile.flush()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        return Handler


@pytest.fixture
def cut_bodies(aws, settings, monkeypatch):
    """boto3 goes through the cutting proxy; `proxy.stop()` is not needed to go back."""
    proxy = _CutBodyProxy(aws, prefix="/teleport/")

    def use(endpoint: str) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        settings.AWS_ENDPOINT_URL = endpoint
        aws_module._base_session.cache_clear()
        aws_module.clear_cache()

    use(proxy.url)
    proxy.use = use
    yield proxy
    proxy.stop()
    aws_module._base_session.cache_clear()
    aws_module.clear_cache()


@pytest.mark.parametrize("compression", sorted(COMPRESS))
def test_a_body_cut_by_the_network_is_retried_not_stored_as_truncation(
    s3_source, s3, cut_bodies, aws, compression
):
    data = COMPRESS[compression](body_of(1000, seed=13))
    key = f"teleport/2026/11/27/10/cut-on-the-wire.json.{SUFFIX[compression]}"
    ref = put(s3, key, data)  # `s3` talks to moto directly: the object is whole

    outcome = ingest_object(s3_source, ref)

    assert cut_bodies.cut == 1
    assert outcome.status == "retry"
    assert f"reading {key} failed" in outcome.error
    row = ObjectLedger.objects.get(key=key)
    assert (row.status, row.attempts, row.events, row.failures) == ("pending", 1, 0, 0)
    assert StageError.objects.get(source=s3_source, stage="get_object").message == row.error
    assert not StageError.objects.filter(source=s3_source, stage="parse").exists()
    assert not Failure.objects.exists()  # nothing stored as a truncation

    cut_bodies.use(aws)  # the network is fine again: the retry reads the whole object
    outcome = ingest_object(s3_source, ref)
    assert (outcome.status, outcome.events, outcome.failures) == ("done", 1000, 0)
    assert Event.objects.filter(object_key=key).count() == 1000
    assert ObjectLedger.objects.get(key=key).attempts == 2


class _EndsEarly(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def test_an_incomplete_read_of_the_body_is_a_get_object_error(s3_source, s3, monkeypatch):
    """botocore's StreamingBody raising IncompleteReadError halfway: a retry, not truncation."""
    data = COMPRESS["gzip"](body_of(400, seed=14))
    ref = put(s3, "teleport/2026/11/27/10/short.json.gz", data)
    short = StreamingBody(_EndsEarly(data[: len(data) // 2]), len(data))
    monkeypatch.setattr(
        type(s3_source.transport_impl),
        "open_object",
        lambda self, source, settings, ref: (short, len(data)),
    )

    outcome = ingest_object(s3_source, ref)

    assert outcome.status == "retry"
    assert "IncompleteReadError" in outcome.error
    assert ObjectLedger.objects.get().status == "pending"
    assert StageError.objects.get(source=s3_source, stage="get_object")
    assert not Failure.objects.exists()
