"""Simulated analysts for the load test (`bin/load-test`, which runs `bench/load.py`).

Each Analyst takes its own signed-in session (and API token), then repeats the search mix of
bench/search.py with think time between requests. The plan comes from bench/load.py as JSON in the
file named by LOAD_PLAN:

    {"requests": [[name, path], ...], "credentials": [[session cookie, API token], ...],
     "think": [min s, max s], "results": "path for the raw samples"}

Every request's latency and error is written to `results` when locust quits, so that bench/load.py
computes exact percentiles (locust's own are rounded into buckets).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path

from locust import FastHttpUser, between, events

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
_credentials = itertools.cycle(PLAN["credentials"])
_samples: list[tuple[str, float, str | None]] = []


@events.request.add_listener
def _record(name: str, response_time: float, exception: BaseException | None, **_) -> None:
    _samples.append((name, response_time, None if exception is None else str(exception)[:300]))


@events.quitting.add_listener
def _save(**_) -> None:
    Path(PLAN["results"]).write_text(json.dumps(_samples))


def search(name: str, path: str) -> Callable[[Analyst], None]:
    """A task: GET `path` as this analyst; anything but 200 (a login redirect too) is an error."""
    api = path.startswith("/api/")

    def run(user: Analyst) -> None:
        headers = user.api_headers if api else user.session_headers
        with user.client.get(
            path, headers=headers, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:120]}")

    run.__name__ = name
    return run


class Analyst(FastHttpUser):
    wait_time = between(*PLAN["think"])
    tasks = [search(name, path) for name, path in PLAN["requests"]]

    def on_start(self) -> None:
        cookie, token = next(_credentials)
        self.session_headers = {"Cookie": f"sessionid={cookie}"}
        self.api_headers = {"Authorization": f"Bearer {token}"}
