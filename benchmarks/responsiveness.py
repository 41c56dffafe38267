"""Does the site stay responsive while the solver runs? (issue 5)

``python -m benchmarks.responsiveness [--time-limit 30] [--rounds 40] [--out FILE]``

The app is served as organizers run it: ``matchfair serve`` (waitress, 8 threads) with
its embedded solver worker, on a fresh SQLite database holding the demo fair
(seed 9: 32 buyers, 160 suppliers) with a published schedule. A client then requests three
pages in turn — a participant's schedule page (secret link), the organizer's event
page and a run's status JSON (what the progress page polls) — first while nothing
runs ("idle"), then while a run with a ``--time-limit`` second limit is solving
("during solve"), started from the site like an organizer would. Latencies are
wall-clock times of complete HTTP responses, one request at a time.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import select

from scheduler import publishing, runs
from scheduler.db import make_engine, make_session_factory
from scheduler.models import Event, Participant

REPO = Path(__file__).resolve().parent.parent
MATCHFAIR = str(Path(sys.executable).parent / "matchfair")
PASSWORD = "matchfair-demo"


def machine() -> str:
    """Cores, CPU model and load: this machine is shared, so the load matters."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, load average {load}"


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p90/p99/max in milliseconds (p99 is the max below 100 samples' resolution)."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": ordered[-1] * 1000,
        "mean": statistics.fmean(ordered) * 1000,
    }


class Client:
    """A browser-like client: cookies, CSRF tokens read from forms, redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        with self.opener.open(self.base + path, timeout=60) as response:
            body = response.read()
            return response.status, body, time.perf_counter() - started

    def post_form(self, path: str, form_page: str, fields: dict[str, str]) -> str:
        """Submit a form as a browser would (with the CSRF token of ``form_page``)."""
        _, page, _ = self.get(form_page)
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        data = {**fields, "csrf_token": match.group(1).decode() if match else ""}
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(data).encode(), method="POST"
        )
        with self.opener.open(request, timeout=60) as response:
            response.read()
            return response.geturl()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(instance: Path) -> tuple[int, str, int]:
    """Database, demo fair and a published schedule; (event id, a schedule link, run id)."""
    env = {**os.environ, "MATCHFAIR_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    # Demo seed 9 with a steep break penalty (below) keeps the solver busy for its
    # whole limit; the default demo (seed 2027) is proven optimal in under a second.
    for command in (["db", "upgrade"], ["demo", "load", "--seed", "9"]):
        subprocess.run([MATCHFAIR, *command], env=env, check=True, capture_output=True)
    engine = make_engine(f"sqlite:///{instance / 'matchfair.sqlite3'}")
    factory = make_session_factory(engine)
    with factory() as session:
        event = session.scalars(select(Event)).one()
        run = runs.create_run(session, event, parameters={"time_limit": 5})
        session.commit()
        run_id, event_id = run.id, event.id
    runs.execute_run(run_id, factory, threads=1)
    with factory() as session:
        event = session.get(Event, event_id)
        publishing.publish_run(session, event, runs.get_run(session, event, run_id))
        session.commit()
        token = session.scalars(
            select(Participant.access_token)
            .where(Participant.event_id == event_id)
            .order_by(Participant.id)
        ).first()
    engine.dispose()
    return event_id, f"/p/{token}/schedule", run_id


def measure(client: Client, paths: dict[str, str], rounds: int, until=None) -> dict:
    """Request every page in turn, ``rounds`` times (or until ``until()`` is true)."""
    samples: dict[str, list[float]] = {name: [] for name in paths}
    done = 0
    while (until is None and done < rounds) or (until is not None and not until()):
        for name, path in paths.items():
            status, _, seconds = client.get(path)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            samples[name].append(seconds)
        done += 1
        time.sleep(0.2)  # a person clicking, not a load test
    return {name: percentiles(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=40, help="idle rounds")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="matchfair-resp-") as tmp:
        instance = Path(tmp)
        print("preparing the demo fair and a published schedule…", file=sys.stderr)
        event_id, schedule_path, seed_run = prepare(instance)
        port = free_port()
        env = {**os.environ, "MATCHFAIR_INSTANCE_PATH": str(instance)}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        server = subprocess.Popen(
            [MATCHFAIR, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = Client(f"http://127.0.0.1:{port}")
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except OSError:
                    time.sleep(0.2)
            client.post_form(
                "/auth/login",
                "/auth/login",
                {"email": "organizer@example.jp", "password": PASSWORD},
            )
            paths = {
                "participant schedule page": schedule_path,
                "organizer event page": f"/events/{event_id}",
                "run status JSON": f"/events/{event_id}/schedule/runs/{seed_run}/status.json",
            }
            measure(client, paths, 3)  # warm-up: templates compiled, connections open
            idle = measure(client, paths, args.rounds)

            run_url = client.post_form(
                f"/events/{event_id}/schedule/runs",
                f"/events/{event_id}/schedule/",
                # A steep break penalty keeps the solver busy for its whole limit.
                {"time_limit": str(args.time_limit), "break_penalty": "30"},
            )
            run_path = urllib.parse.urlparse(run_url).path
            paths["run status JSON"] = f"{run_path}/status.json"

            def status() -> dict:
                return json.loads(client.get(paths["run status JSON"])[1])

            deadline = time.monotonic() + 60
            while status()["status"] == "queued" and time.monotonic() < deadline:
                time.sleep(0.2)
            started = time.monotonic()
            busy = measure(client, paths, 0, until=lambda: status()["finished"])
            solve_seconds = time.monotonic() - started
            final = status()
        finally:
            server.terminate()
            server.wait(timeout=30)

    result = {
        "machine": machine(),
        "python": platform.python_version(),
        "time_limit": args.time_limit,
        "solve_seconds": round(solve_seconds, 1),
        "run_status": final["status"],
        "idle": idle,
        "during_solve": busy,
    }
    print(report(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


def report(result: dict) -> str:
    """A Markdown table of the latencies, idle against during the solve."""
    lines = [
        f"Machine: {result['machine']}; Python {result['python']}.",
        f"Solve: {result['time_limit']} s limit, measured for {result['solve_seconds']} s "
        f"(run {result['run_status']}).",
        "",
        "| page | when | n | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name in result["idle"]:
        for when in ("idle", "during_solve"):
            s = result[when][name]
            lines.append(
                f"| {name} | {when.replace('_', ' ')} | {s['n']} | {s['p50']:.0f} | "
                f"{s['p90']:.0f} | {s['p99']:.0f} | {s['max']:.0f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
