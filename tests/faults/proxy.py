"""A flaky HTTP proxy between boto3 and moto server: for a seeded share of requests it answers
with the throttling errors AWS sends (S3 503 SlowDown, SQS 400 Throttling), and for another share
it drops the connection — before forwarding (the request never ran), or after (it ran, and the
answer is lost or cut off in the middle of the body). It can also make the LIST requests of one
bucket slow (`slow_listing`), as the pages of a large bucket are, so a listing pass lasts long
enough for a fault to land in it."""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
S3_SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message><RequestId>FAULTS</RequestId></Error>"
)
SQS_THROTTLING = b'{"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"}'


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client gone mid-answer (a killed worker) is expected here, not worth a traceback."""


class FlakyProxy:
    """Start with `start()`; `counts` says what was done to how many requests."""

    def __init__(
        self, upstream: str, *, throttle_share: float, drop_share: float, seed: int = 0
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.throttle_share = throttle_share
        self.drop_share = drop_share
        self.rng = random.Random(f"sluice-faults-proxy:{seed}")
        self.counts: Counter[str] = Counter()
        self.enabled = True
        self.slow_listing: tuple[str, float] | None = None  # (bucket, seconds per LIST request)
        self.slowed = 0
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FlakyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def decide(self) -> str:
        """forward | throttle | drop-before | drop-after (seeded, one draw per request)."""
        with self._lock:
            draw = self.rng.random()
            if not self.enabled:
                fate = "forward"
            elif draw < self.throttle_share:
                fate = "throttle"
            elif draw < self.throttle_share + self.drop_share:
                fate = "drop-before" if self.rng.random() < 0.5 else "drop-after"
            else:
                fate = "forward"
            self.counts[fate] += 1
            return fate

    def list_delay(self, command: str, path: str, host: str) -> float:
        """Seconds to hold a LIST request of the slow bucket (path- or virtual-host-style)."""
        if self.slow_listing is None or command != "GET" or "list-type=2" not in path:
            return 0.0
        bucket, seconds = self.slow_listing
        if path.split("?", 1)[0].strip("/") == bucket or host.startswith(f"{bucket}."):
            with self._lock:
                self.slowed += 1
            return seconds
        return 0.0

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fate = proxy.decide()
                delay = proxy.list_delay(self.command, self.path, self.headers.get("Host", ""))
                if delay:
                    time.sleep(delay)
                if fate == "throttle":
                    self._throttle()
                    return
                if fate == "drop-before":
                    self._reset()
                    return
                status, headers, payload = self._forward(body)
                if fate == "drop-after":
                    self._send(status, headers, payload[: len(payload) // 2], length=len(payload))
                    self._reset()
                    return
                self._send(status, headers, payload, length=len(payload))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=60
                )
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    kept = [
                        (k, v)
                        for k, v in response.getheaders()
                        if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
                    ]
                    return response.status, kept, payload
                finally:
                    upstream.close()

            def _throttle(self) -> None:
                if self.headers.get("X-Amz-Target", "").startswith("AmazonSQS."):
                    headers = [
                        ("Content-Type", "application/x-amz-json-1.0"),
                        ("x-amzn-query-error", "Throttling;Sender"),
                    ]
                    self._send(400, headers, SQS_THROTTLING, length=len(SQS_THROTTLING))
                else:
                    headers = [("Content-Type", "application/xml")]
                    self._send(503, headers, S3_SLOWDOWN, length=len(S3_SLOWDOWN))

            def _send(self, status: int, headers, payload: bytes, *, length: int) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                self.wfile.flush()

            def _reset(self) -> None:
                """Close with a TCP reset, as a load balancer dropping the connection does."""
                self.close_connection = True
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )

        return Handler
