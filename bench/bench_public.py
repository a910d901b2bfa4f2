"""Public pages under load: gunicorn (2 sync workers, as in production) serving the public
project page and the status lookup, against a hello-world Flask app on the same settings,
50 concurrent connections from wrk. Targets (issue 6): project page >= 50% of hello-world
throughput, status lookup (which writes an audit row) >= 25%, p95 under 50 ms for both.

The status lookup posts the case number and ID suffix of every demo household in turn (400
cases of every stage, money and swap), as a rush of different residents would; each one is a
real lookup: limits counted in Redis, CSRF checked, the audit row committed, the page built.

A yardstick runs beside them (bench/_least_lookup.py): the least any lookup does, as a bare
Flask app (one Redis round trip, one read, one committed audit row, a compiled template).
What it reaches is a ceiling for the real lookup on the same machine.

This machine's speed drifts by tens of percent from minute to minute, so both servers stay up
and short runs alternate (hello world, project page, status lookup, again); each figure is the
median of its runs and each ratio the median of the ratios within a round.

Run on SQLite, and on PostgreSQL when BENCH_DATABASE_URL is set. Needs wrk (make bench
installs it with apt).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONNECTIONS, THREADS, SECONDS, WORKERS, ROUNDS = 50, 2, 3, 2, 5
TARGETS = {"project": 0.50, "status": 0.25}
P95_MS = 50.0
LUA_DONE = """
done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\\n", latency:percentile(95.0)))
  io.write(string.format("ERRORS %d\\n", summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return "redis://127.0.0.1:6379"
    except OSError:
        return "memory://"


def _prepare_database(url: str) -> tuple[str, list[tuple[str, str]]]:
    """Migrate and seed the demo (400 households); returns a project code and the case number
    and ID suffix of every household."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from resettle import create_app
    from resettle.audit.services import acting_as
    from resettle.demo.services import seed_demo
    from resettle.extensions import db
    from resettle.households.models import Household
    from resettle.plans.services import replan_all

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        with acting_as("bench"):
            seed_demo(db.session)
            replan_all(db.session)
            db.session.commit()
        households = db.session.scalars(sa.select(Household).order_by(Household.id)).all()
        project = households[0].project.code
        cases = [(h.case_number, h.head_id_number[-6:]) for h in households]
        db.session.remove()
        db.engine.dispose()
    return project, cases


def _serve(app_path: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-w",
            str(WORKERS),
            "-k",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_path,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            return process, base
        except urllib.error.HTTPError:  # it answers (404 where it has no page at /)
            return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start {app_path}")


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=10)


def _wrk(url: str, script: str, seconds: int = SECONDS) -> tuple[float, float, int]:
    """Requests per second, p95 in ms and errors of one wrk run."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script + LUA_DONE)
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", handle.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p95 = int(re.search(r"P95_US (\d+)", out).group(1)) / 1000
    errors = int(re.search(r"ERRORS (\d+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p95, errors + (int(non_2xx.group(1)) if non_2xx else 0)


def _status_script(base: str, cases: list[tuple[str, str]]) -> str:
    """A wrk script posting the lookup form for each case in turn (the form needs no cookie
    and no CSRF token); every lookup is checked to find its case once before the run."""
    bodies = []
    for case_number, suffix in cases:
        body = urllib.parse.urlencode({"case_number": case_number, "id_suffix": suffix})
        answer = urllib.request.urlopen(base + "/public/status", data=body.encode()).read()
        assert b'data-testid="current-stage"' in answer, f"the lookup did not find {case_number}"
        bodies.append(body)
    lua_bodies = ",\n".join(f'  "{b}"' for b in bodies)
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f"bodies = {{\n{lua_bodies}\n}}\n"
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        '  return wrk.format(nil, "/public/status", nil, bodies[(counter % #bodies) + 1])\n'
        "end\n"
    )


def run(label: str, url: str) -> bool:
    project, cases = _prepare_database(url)
    env = dict(os.environ)
    env.update(
        RESETTLE_ENV="production",
        DATABASE_URL=url,
        SECRET_KEY="bench-secret-key-0123456789",
        RATELIMIT_STORAGE_URI=_redis_url(),
        PUBLIC_LOOKUP_LIMIT_IP="1000000 per minute",
        PUBLIC_LOOKUP_LIMIT_CASE="1000000 per minute",
    )
    from bench._least_lookup import prepare

    prepare(url)
    hello, hello_base = _serve("bench._hello:app", env)
    least, least_base = _serve("bench._least_lookup:app", env)
    server, base = _serve("wsgi:app", env)
    least_script = (
        'wrk.method = "POST"\nwrk.body = "case_number=Y-7"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
    )
    targets = {
        "hello": (hello_base + "/", ""),
        "yardstick": (least_base + "/lookup", least_script),
        "project": (f"{base}/public/projects/{project}", ""),
        "status": (f"{base}/public/status", _status_script(base, cases)),
    }
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in targets}
    try:
        for target, script in targets.values():
            _wrk(target, script, seconds=2)  # warm-up
        for _round in range(ROUNDS):
            for name, (target, script) in targets.items():
                runs[name].append(_wrk(target, script))
    finally:
        _stop(server)
        _stop(least)
        _stop(hello)
    hello_rps = statistics.median(r[0] for r in runs["hello"])
    hello_p95 = statistics.median(r[1] for r in runs["hello"])
    print(
        f"{label}: hello world {hello_rps:,.0f} req/s, p95 {hello_p95:.1f} ms ({WORKERS} sync "
        f"workers, {CONNECTIONS} connections, {ROUNDS} alternating rounds of {SECONDS} s; "
        f"hello world ranged {min(r[0] for r in runs['hello']):,.0f}–"
        f"{max(r[0] for r in runs['hello']):,.0f} req/s)"
    )
    least_rps = statistics.median(r[0] for r in runs["yardstick"])
    least_ratio = statistics.median(
        mine[0] / base_run[0]
        for mine, base_run in zip(runs["yardstick"], runs["hello"], strict=True)
    )
    print(
        f"  yardstick {least_rps:7,.0f} req/s = {least_ratio:5.1%} of hello world: the least a "
        "lookup does (Redis count, read, audit commit, template) in bare Flask"
    )
    ok = True
    for name in ("project", "status"):
        rps = statistics.median(r[0] for r in runs[name])
        p95 = statistics.median(r[1] for r in runs[name])
        errors = sum(r[2] for r in runs[name])
        ratio = statistics.median(
            mine[0] / base_run[0] for mine, base_run in zip(runs[name], runs["hello"], strict=True)
        )
        passed = ratio >= TARGETS[name] and p95 < P95_MS and errors == 0
        ok &= passed
        print(
            f"  {name:8s} {rps:8,.0f} req/s = {ratio:5.1%} of hello world (target "
            f"{TARGETS[name]:.0%}), p95 {p95:5.1f} ms (target < {P95_MS:.0f}), "
            f"errors {errors}: {'PASS' if passed else 'FAIL'}"
        )
    return ok


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: run `make bench`, which installs it with apt")
        return 1
    from tests.dbs import fresh_database

    ok = True
    with tempfile.TemporaryDirectory() as folder:
        ok &= run("SQLite", fresh_database("public_bench", Path(folder)))
        pg = os.environ.get("BENCH_DATABASE_URL")
        if pg:
            os.environ["TEST_DATABASE_URL"] = pg
            ok &= run("PostgreSQL", fresh_database("public_bench", Path(folder)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
