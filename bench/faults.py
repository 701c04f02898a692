"""Load and fault scenarios (issue 9): the site under gunicorn, on loopback, on its own servers.

    .venv/bin/python bench/faults.py soak             # 1: home + a post at saturation, 10 min
    .venv/bin/python bench/faults.py soak --quick     #    the same for 60 s (CI)
    .venv/bin/python bench/faults.py redis [--quick]  # 4: Redis stopped, then started, mid-load
    .venv/bin/python bench/faults.py postgres [--quick]  # PostgreSQL stopped mid-load: 503s,
                                                      #    then the seconds until pages return

Every scenario runs on a PRIVATE PostgreSQL cluster (`pg_createcluster 15 bbfault9 --port 5438`,
trust on loopback) that it creates and drops, and (redis) a PRIVATE redis-server on a free
port that it starts and shuts down: never the shared servers on 5432 and 6379, which other
work uses. Data: `manage.py load_demo` (15 posts, about 60 comments). gunicorn: 2 sync workers.
Load: wrk when installed (soak), else — and always for the fault scenarios, which need each
response's time and status — the built-in client of bench/load.py.

Prints what it saw (requests, errors by kind, p50/p99, each worker's RSS at start and end, the
recovery time) and exits non-zero when a scenario fails its bar. tests/test_fault_scenarios.py
runs short versions of these in the suite, with the same functions.
"""

import argparse
import contextlib
import gzip
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.data import HOST, REPO, SECRET_KEY, log  # noqa: E402
from bench.load import free_port, start_gunicorn, stop_gunicorn, wait_until_serving  # noqa: E402

PG_VERSION = "15"
PG_CLUSTER = "bbfault9"
PG_PORT = 5438
DATABASE = "barnetblog_fault"
RESULTS = REPO / "bench" / "results"


# --- private servers ---------------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster of our own (created, started, stopped, dropped by us)."""

    def __init__(self, name=PG_CLUSTER, port=PG_PORT, version=PG_VERSION):
        self.name, self.port, self.version = name, port, version
        self.url = f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"

    @staticmethod
    def available():
        return all(shutil.which(tool) for tool in ("pg_createcluster", "pg_ctlcluster"))

    def _run(self, *command, check=True):
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def __enter__(self):
        self.drop()  # what an interrupted earlier run may have left
        self._run(
            "pg_createcluster", self.version, self.name, "--port", str(self.port),
            "--start-conf", "manual", "--", "--auth-local=trust", "--auth-host=trust",
        )  # fmt: skip
        conf = Path(f"/etc/postgresql/{self.version}/{self.name}/postgresql.conf")
        with conf.open("a") as out:  # small and quick: a throw-away cluster
            out.write("\nfsync = off\nshared_buffers = 32MB\nlisten_addresses = '127.0.0.1'\n")
        self.start()
        self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c",
            f"CREATE DATABASE {DATABASE}",
        )  # fmt: skip
        return self

    def start(self):
        self._run("pg_ctlcluster", self.version, self.name, "start")
        self.wait_ready()

    def stop(self):
        self._run("pg_ctlcluster", self.version, self.name, "stop", "-m", "fast")

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"cluster {self.name} did not start")

    def drop(self):
        listed = self._run("pg_lsclusters", "--no-header", check=False).stdout.split()
        if self.name in listed:
            self._run("pg_dropcluster", self.version, self.name, "--stop", check=False)

    def __exit__(self, *exc):
        self.drop()


class PrivateRedis:
    """A redis-server of our own on a free port, no persistence; stop() and start() at will."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize",
             "yes", "--save", "", "--appendonly", "no"],
            check=True, capture_output=True,
        )  # fmt: skip
        for _ in range(50):
            if self._cli("ping").strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self._cli("shutdown", "nosave")

    def _cli(self, *args):
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True
        ).stdout

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


# --- the site ----------------------------------------------------------------------------------


def prepare_site(database_url):
    """Migrate the private database and load the demo content; (home path, a post's path)."""
    env = site_env(database_url)
    for command in (["migrate", "--noinput"], ["load_demo", "--domain", HOST]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=REPO, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {command[0]} failed:\n{result.stderr[-2000:]}")
    return "/", first_post_path(database_url)


def first_post_path(database_url):
    import psycopg2

    url = database_url.replace("postgres://", "postgresql://")
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT published_at AT TIME ZONE 'Europe/London', slug FROM posts_post "
            "WHERE status = 'published' AND published_at <= now() "
            "ORDER BY published_at DESC LIMIT 1"
        )
        published, slug = cursor.fetchone()
    return f"/{published:%Y/%m/%d}/{slug}/"


def site_env(database_url, **extra):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_EMAIL_BACKEND": "locmem",
        "DJANGO_LOG_LEVEL": "ERROR",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.setdefault("REDIS_URL", "")  # never the shared Redis: only a private one, when given
    return env


@contextlib.contextmanager
def gunicorn(database_url, workers=2, **extra_env):
    """gunicorn serving the site on a free loopback port: yields (process, port)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = RESULTS / "fault-gunicorn.log"
    env = {
        "DJANGO_PAGE_CACHE_DIR": str(RESULTS / "fault-page-cache"),
        "DJANGO_LOG_LEVEL": "ERROR",
        "REDIS_URL": "",  # never the shared Redis: only a private one, when given
        **extra_env,
    }
    proc = start_gunicorn(database_url, port, workers, log_path, env)
    try:
        wait_until_serving(proc, port, log_path)
        yield proc, port
    finally:
        stop_gunicorn(proc)


def worker_rss(master_pid):
    """{worker pid: resident memory in MiB} of gunicorn's workers (Linux /proc)."""
    rss = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid) and "VmRSS" in fields:
            rss[int(entry.name)] = int(fields["VmRSS"].split()[0]) / 1024
    return rss


# --- load with a record of every response --------------------------------------------------


class Recorder:
    """Requests to `paths` (in turn) from `concurrency` threads until stop(); every response's
    (time sent, seconds taken, status or error kind) is kept."""

    def __init__(self, port, paths, concurrency=8, timeout=15):
        self.port, self.paths, self.concurrency, self.timeout = port, paths, concurrency, timeout
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def __enter__(self):
        self.threads = [
            threading.Thread(target=self._worker, args=(n,), daemon=True)
            for n in range(self.concurrency)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=self.timeout + 5)

    def _worker(self, n):
        i = n
        while not self.stopping.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            began = time.monotonic()
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
                response = conn.getresponse()
                body = response.read()
                conn.close()
                if response.getheader("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                outcome = response.status
                if response.status == 503 and b"back shortly" not in body:
                    outcome = "503 without our page"
                if response.status == 503 and not response.getheader("Retry-After"):
                    outcome = "503 without Retry-After"
            except (OSError, http.client.HTTPException) as error:
                outcome = type(error).__name__
            with self.lock:
                self.records.append((began, time.monotonic() - began, outcome))

    def between(self, start, end):
        return [r for r in self.records if start <= r[0] < end]


def summarise(records):
    """{requests, ok, errors: {kind: n}, p50_ms, p99_ms, slowest_ms} of some records."""
    times = sorted(r[1] for r in records)
    errors = {}
    for _, _, outcome in records:
        if outcome != 200:
            errors[str(outcome)] = errors.get(str(outcome), 0) + 1

    def pct(p):
        return (
            round(times[max(0, int(len(times) * p / 100 + 0.5) - 1)] * 1000, 1) if times else None
        )

    return {
        "requests": len(records),
        "ok": sum(1 for r in records if r[2] == 200),
        "errors": errors,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "slowest_ms": round(times[-1] * 1000, 1) if times else None,
    }


# --- scenarios ---------------------------------------------------------------------------------


def soak(database_url, paths, seconds, connections=16, windows=None):
    """Scenario 1: `paths` at saturation for `seconds`; per window and overall: requests,
    errors, p99; each worker's RSS at the start (after a warm-up) and at the end."""
    from bench.load import Load, WrkLoad, find_wrk

    windows = windows or max(1, round(seconds / 60))
    window_seconds = seconds / windows
    report = {"scenario": "soak", "seconds": seconds, "paths": paths, "windows": []}
    with gunicorn(database_url, BARNETBLOG_PAGE_CACHE="false") as (proc, port):
        warm_up(port, paths)
        report["rss_start_mib"] = worker_rss(proc.pid)
        per_path = max(1, connections // len(paths))
        wrk = find_wrk()
        report["client"] = f"wrk, {per_path} connections per page" if wrk else "built-in"
        for _ in range(windows):
            loads = [
                WrkLoad(
                    port,
                    path,
                    window_seconds,
                    per_path,
                    1,
                    {"Accept-Encoding": "gzip"},
                    RESULTS / f"wrk-soak-{n}.lua",
                )  # fmt: skip
                if wrk
                else Load(port, path, 10**9, window_seconds, per_path, {"Accept-Encoding": "gzip"})
                for n, path in enumerate(paths)
            ]
            threads = [threading.Thread(target=load.run) for load in loads]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            report["windows"].append(
                {
                    path: {
                        "requests": load.done,
                        "rate": round(load.rate, 1),
                        "p99_ms": round(load.percentile(99) * 1000, 1),
                        "errors": list(load.errors),
                    }
                    for path, load in zip(paths, loads, strict=True)
                }
            )
        report["rss_end_mib"] = worker_rss(proc.pid)
        report["gunicorn_alive"] = proc.poll() is None
    report["requests"] = sum(v["requests"] for w in report["windows"] for v in w.values())
    report["errors"] = sum(len(v["errors"]) for w in report["windows"] for v in w.values())
    report["p99_ms_worst_window"] = max(v["p99_ms"] for w in report["windows"] for v in w.values())
    starts, ends = report["rss_start_mib"], report["rss_end_mib"]
    report["rss_growth_mib"] = {
        pid: round(ends[pid] - starts[pid], 1) for pid in starts if pid in ends
    }
    report["workers_replaced"] = sorted(set(starts) ^ set(ends))
    return report


def redis_restart(database_url, paths, before=5, down=10, after=10, concurrency=8):
    """Scenario 4: pages under load with the page cache in a private Redis, which is stopped
    for `down` seconds and started again: responses before, during and after."""
    with (
        PrivateRedis() as redis,
        gunicorn(database_url, BARNETBLOG_PAGE_CACHE="true", REDIS_URL=redis.url) as (_, port),
    ):
        warm_up(port, paths)
        with Recorder(port, paths, concurrency) as recorder:
            t0 = time.monotonic()
            time.sleep(before)
            t1 = time.monotonic()
            redis.stop()
            time.sleep(down)
            t2 = time.monotonic()
            redis.start()
            time.sleep(after)
            t3 = time.monotonic()
        hits_after = _cache_hits(port, paths[0])
    return {
        "scenario": "redis stopped and restarted",
        "before": summarise(recorder.between(t0, t1)),
        "redis down": summarise(recorder.between(t1, t2)),
        "seconds down": round(t2 - t1, 1),
        "after restart": summarise(recorder.between(t2, t3)),
        "page cache hit after restart": hits_after,
    }


def warm_up(port, paths):
    """A few requests first: workers import, compile templates and connect before measuring."""
    from bench.load import Load

    for path in paths:
        Load(port, path, 20, 10, 2).run()


def _cache_hits(port, path):
    """Whether the page cache serves hits again (two requests: a miss, then a hit)."""
    seen = []
    for _ in range(2):
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        seen.append(response.getheader("X-Page-Cache"))
        conn.close()
    return "hit" in seen


def postgres_restart(cluster, paths, before=3, down=8, after=15, concurrency=6):
    """PostgreSQL stopped under load for `down` seconds and started again: the answers while it
    is down (503 with our page, fast) and the seconds from its return to the first 200."""
    with gunicorn(cluster.url, BARNETBLOG_PAGE_CACHE="false") as (proc, port):
        warm_up(port, paths)
        with Recorder(port, paths, concurrency) as recorder:
            t0 = time.monotonic()
            time.sleep(before)
            t_stop = time.monotonic()
            cluster.stop()
            t1 = time.monotonic()  # stopped: every connection closed
            time.sleep(down)
            t_start = time.monotonic()
            cluster.start()
            t2 = time.monotonic()  # the database accepts connections again
            deadline = t2 + after
            while time.monotonic() < deadline:
                time.sleep(0.2)
                done = recorder.between(t2, time.monotonic())
                if sum(1 for r in done if r[2] == 200) >= 20:
                    break
            t3 = time.monotonic()
        alive = proc.poll() is None
    during = recorder.between(t1, t_start)
    first_ok = min((r[0] + r[1] for r in recorder.between(t2, t3) if r[2] == 200), default=None)
    later = [r for r in recorder.between(t2, t3) if first_ok is not None and r[0] > first_ok]
    return {
        "scenario": "postgresql stopped and restarted",
        "before": summarise(recorder.between(t0, t_stop)),
        "database down": summarise(during),
        "seconds down": round(t_start - t1, 1),
        "after restart": summarise(recorder.between(t2, t3)),
        "after the first success": summarise(later),
        "recovery_seconds": round(first_ok - t2, 2) if first_ok is not None else None,
        "gunicorn_alive": alive,
    }


# --- command line ------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=("soak", "redis", "postgres"))
    parser.add_argument("--quick", action="store_true", help="a short run (CI)")
    parser.add_argument("--seconds", type=float, help="soak: seconds of load (600; quick 60)")
    parser.add_argument("--connections", type=int, default=16, help="soak: connections (16)")
    args = parser.parse_args(argv)
    if not PrivatePostgres.available():
        log("pg_createcluster/pg_ctlcluster are needed (Debian's postgresql-common).")
        return 2
    failures = []
    with PrivatePostgres() as cluster:
        log(f"Private PostgreSQL cluster {cluster.name} on port {cluster.port}; loading the demo…")
        paths = prepare_site(cluster.url)
        if args.scenario == "soak":
            seconds = args.seconds or (60 if args.quick else 600)
            windows = 3 if args.quick else 10
            log(f"Soak: {paths} at saturation for {seconds:.0f} s…")
            report = soak(cluster.url, paths, seconds, args.connections, windows)
            if report["errors"]:
                failures.append(f"{report['errors']} errors")
            if any(growth > 25 for growth in report["rss_growth_mib"].values()):
                failures.append(f"worker memory grew: {report['rss_growth_mib']}")
            if not report["gunicorn_alive"]:
                failures.append("gunicorn died")
        elif args.scenario == "redis":
            timing = (3, 5, 5) if args.quick else (5, 15, 15)
            log("Redis: load, Redis stopped, Redis started again…")
            report = redis_restart(cluster.url, paths, *timing)
            for phase in ("before", "redis down", "after restart"):
                if report[phase]["errors"]:
                    failures.append(f"{phase}: {report[phase]['errors']}")
            if not report["page cache hit after restart"]:
                failures.append("the page cache did not serve hits after Redis came back")
        else:
            timing = (2, 5, 15) if args.quick else (5, 15, 30)
            log("PostgreSQL: load, the cluster stopped, then started again…")
            report = postgres_restart(cluster, paths, *timing)
            down = report["database down"]
            if set(down["errors"]) - {"503"}:
                failures.append(f"while down, other than 503s: {down['errors']}")
            if down["slowest_ms"] and down["slowest_ms"] > 5000:
                failures.append(f"a request took {down['slowest_ms']} ms while down")
            if report["recovery_seconds"] is None or report["recovery_seconds"] > 10:
                failures.append(f"recovery took {report['recovery_seconds']} s")
            if report["after the first success"]["errors"]:
                failures.append(f"after recovery: {report['after the first success']['errors']}")
    text = json.dumps(report, indent=2, default=str)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"fault-{args.scenario}.json").write_text(text)
    if failures:
        log("FAILED: " + "; ".join(failures))
        return 1
    log("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
