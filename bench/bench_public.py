"""Public pages under load: gunicorn (2 sync workers, as in production) serving the public
project page and the status lookup, against a hello-world Flask app on the same settings,
50 concurrent connections from wrk. Targets (issue 6): project page >= 50% of hello-world
throughput, status lookup (which writes an audit row) >= 25%, p95 under 50 ms for both.

Run on SQLite, and on PostgreSQL when BENCH_DATABASE_URL is set. Needs wrk (make bench
installs it with apt).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONNECTIONS, THREADS, SECONDS, WORKERS = 50, 2, 10, 2
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


def _prepare_database(url: str) -> tuple[str, str, str]:
    """Migrate and seed the demo (400 households); returns project code, case number, suffix."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from resettle import create_app
    from resettle.audit.services import acting_as
    from resettle.demo.services import seed_demo
    from resettle.extensions import db
    from resettle.households.models import Household, Stage
    from resettle.plans.services import replan_all

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        with acting_as("bench"):
            seed_demo(db.session)
            replan_all(db.session)
            db.session.commit()
        household = db.session.scalars(
            sa.select(Household).where(Household.stage == Stage.VACATED).order_by(Household.id)
        ).first()
        found = household.project.code, household.case_number, household.head_id_number[-6:]
        db.session.remove()
        db.engine.dispose()
    return found


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
            urllib.request.urlopen(base + ("/" if "hello" in app_path else "/public/"), timeout=2)
            return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start {app_path}")


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=10)


def _wrk(url: str, script: str) -> tuple[float, float, int]:
    """Requests per second, p95 in ms and errors of one wrk run."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script + LUA_DONE)
    subprocess.run(
        ["wrk", "-t2", "-c50", "-d2s", url, "-s", handle.name], capture_output=True, check=True
    )  # warm-up
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "-s", handle.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p95 = int(re.search(r"P95_US (\d+)", out).group(1)) / 1000
    errors = int(re.search(r"ERRORS (\d+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p95, errors + (int(non_2xx.group(1)) if non_2xx else 0)


def _status_script(base: str, case_number: str, suffix: str) -> str:
    """A wrk script posting the lookup form with a real CSRF token and session cookie."""
    # The session cookie is Secure in production, so it is carried by hand over plain http.
    first = urllib.request.urlopen(base + "/public/status")
    page = first.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    cookie = first.headers["Set-Cookie"].split(";", 1)[0]
    body = urllib.parse.urlencode(
        {"csrf_token": token, "case_number": case_number, "id_suffix": suffix}
    )
    request = urllib.request.Request(
        base + "/public/status", data=body.encode(), headers={"Cookie": cookie}
    )
    answer = urllib.request.urlopen(request).read().decode()
    assert case_number in answer, "the lookup did not find the case"
    return (
        'wrk.method = "POST"\n'
        f'wrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Cookie"] = "{cookie}"\n'
    )


def run(label: str, url: str) -> bool:
    project, case_number, suffix = _prepare_database(url)
    env = dict(os.environ)
    env.update(
        RESETTLE_ENV="production",
        DATABASE_URL=url,
        SECRET_KEY="bench-secret-key-0123456789",
        RATELIMIT_STORAGE_URI=_redis_url(),
        PUBLIC_LOOKUP_LIMIT_IP="1000000 per minute",
        PUBLIC_LOOKUP_LIMIT_CASE="1000000 per minute",
    )
    hello, hello_base = _serve("bench._hello:app", env)
    try:
        hello_rps, hello_p95, _ = _wrk(hello_base + "/", "")
    finally:
        _stop(hello)
    server, base = _serve("wsgi:app", env)
    results = {}
    try:
        results["project"] = _wrk(f"{base}/public/projects/{project}", "")
        results["status"] = _wrk(f"{base}/public/status", _status_script(base, case_number, suffix))
    finally:
        _stop(server)
    print(
        f"{label}: hello world {hello_rps:,.0f} req/s, p95 {hello_p95:.1f} ms "
        f"({WORKERS} sync workers, {CONNECTIONS} connections, wrk {SECONDS} s)"
    )
    ok = True
    for name, (rps, p95, errors) in results.items():
        ratio = rps / hello_rps
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
