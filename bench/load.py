"""Measuring the pages: in-process, then under load from gunicorn.

- `measure_in_process()`: SQL queries, HTML bytes and comments shown for each page, from the
  second request with Django's test client (the first warms per-process caches);
- `start_gunicorn()` / `wait_until_serving()` / `stop_gunicorn()`: `barnetblog.wsgi` with sync
  workers × 1 thread on a free loopback port, with the bench database's settings; its output
  goes to a log file;
- `Load`: the built-in load client, `concurrency` threads sending GETs with `http.client`
  (keeping connections alive when the server allows it) until a number of responses or of
  seconds runs out; it records each request's time from sending to the body's last byte;
- `cpu_busy()` and `CpuMeter`: from Linux's /proc, how busy the machine is, and how much CPU
  gunicorn, PostgreSQL, this client and other processes used while a page was loaded.
"""

import http.client
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.data import HOST, REPO, SECRET_KEY

# --- in-process measurements -------------------------------------------------------------------


def measure_in_process(pages):
    """{name: (queries, bytes, comments shown, [sql…])} from Django's test client, warm."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    results = {}
    for name, path, expect in pages:
        client.get(path)  # warm per-process caches (the Site, content types), as on a server
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in-process")
        content = response.content
        if expect and expect.encode() not in content:
            raise RuntimeError(f"{path} does not show {expect!r}: is the bench data right?")
        shown = content.count(b'<li class="comment')
        results[name] = (
            len(queries),
            len(content),
            shown,
            [q["sql"] for q in queries.captured_queries],
        )
    return results


# --- gunicorn ----------------------------------------------------------------------------------


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gunicorn_command(port, workers):
    local = Path(sys.executable).parent / "gunicorn"
    exe = [str(local)] if local.exists() else [sys.executable, "-m", "gunicorn"]
    return [
        *exe,
        "barnetblog.wsgi",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--threads", "1",
        "--log-level", "warning",
    ]  # fmt: skip


def start_gunicorn(database_url, port, workers, log_path, extra_env=None):
    env = {
        **os.environ,
        **(extra_env or {}),
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_EMAIL_BACKEND": "locmem",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # barnetblog/wsgi.py sets it
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed by stop_gunicorn
    proc = subprocess.Popen(
        gunicorn_command(port, workers),
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    proc.log_file = log_file
    return proc


def wait_until_serving(proc, port, log_path, timeout=30.0):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return
            last_error = f"HTTP {response.status}"
        except OSError as error:
            last_error = error
        time.sleep(0.2)
    raise RuntimeError(
        f"gunicorn did not answer in {timeout:.0f} s ({last_error}):\n{tail(log_path)}"
    )


def stop_gunicorn(proc):
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: gunicorn's graceful shutdown
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    proc.log_file.close()


def tail(path, lines=20):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- load --------------------------------------------------------------------------------------


class Load:
    """Requests to one path from `concurrency` threads until `count` or `seconds` run out."""

    def __init__(self, port, path, count, seconds, concurrency, headers=None):
        self.port, self.path = port, path
        self.headers = {"Accept-Encoding": "identity", **(headers or {})}
        self.count, self.seconds, self.concurrency = count, seconds, concurrency
        self.lock = threading.Lock()
        self.issued = 0
        self.latencies = []
        self.errors = []
        self.sizes = set()
        self.connections = 0

    def run(self):
        self.deadline = time.perf_counter() + self.seconds
        threads = [
            threading.Thread(target=self._worker, daemon=True) for _ in range(self.concurrency)
        ]
        self.started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.perf_counter() - self.started
        return self

    def _ticket(self):
        with self.lock:
            if self.issued >= self.count or time.perf_counter() >= self.deadline:
                return False
            self.issued += 1
            return True

    def _worker(self):
        conn = None
        while self._ticket():
            if conn is None:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                with self.lock:
                    self.connections += 1
            began = time.perf_counter()
            try:
                conn.request("GET", self.path, headers=self.headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = None
                with self.lock:
                    self.errors.append(f"{type(error).__name__}: {error}")
                continue
            took = time.perf_counter() - began
            with self.lock:
                if response.status == 200:
                    self.latencies.append(took)
                    self.sizes.add(len(body))
                else:
                    self.errors.append(f"HTTP {response.status}")
            if response.will_close:  # the server closed it (gunicorn's sync worker does)
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def percentile(self, p):
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def rate(self):
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    @property
    def done(self):
        return len(self.latencies)


# --- wrk ---------------------------------------------------------------------------------------

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH-JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"bytes\\": %d, "
    .. "\\"p50_us\\": %f, \\"p99_us\\": %f, \\"connect\\": %d, \\"read\\": %d, "
    .. "\\"write\\": %d, \\"timeout\\": %d, \\"status\\": %d}\\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status))
end
"""


def find_wrk():
    """The wrk executable, or None (then the built-in client is used)."""
    import shutil

    return shutil.which("wrk")


WRK_HINT = "wrk is not installed: `sudo apt-get install wrk` (Debian, Ubuntu) or `brew install wrk`"


class WrkLoad:
    """`wrk` against one path for `seconds`: a C client that leaves the CPU to the server.

    Same attributes as `Load` (rate, done, elapsed, errors, percentile(), connections).
    Non-2xx answers and socket errors (other than gunicorn closing each connection) count
    as errors.
    """

    def __init__(self, port, path, seconds, connections, threads, headers, script_path):
        self.port, self.path, self.seconds = port, path, seconds
        self.connections_wanted, self.threads = connections, threads
        self.headers, self.script_path = headers or {}, script_path
        self.errors = []
        self.latencies = []
        self.connections = "–"

    def run(self):
        import json

        Path(self.script_path).write_text(WRK_SCRIPT)
        command = [
            find_wrk(), "--latency", "-t", str(self.threads), "-c", str(self.connections_wanted),
            "-d", f"{max(1, round(self.seconds))}s", "--timeout", "10s",
            "-s", str(self.script_path),
        ]  # fmt: skip
        for name, value in self.headers.items():
            command += ["-H", f"{name}: {value}"]
        command.append(f"http://{HOST}:{self.port}{self.path}")
        out = subprocess.run(command, capture_output=True, text=True, timeout=self.seconds + 60)
        line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH-JSON ")), None)
        if line is None:
            raise RuntimeError(
                f"wrk gave no summary (exit {out.returncode}):\n{out.stdout}{out.stderr}"
            )
        data = json.loads(line.removeprefix("BENCH-JSON "))
        self.data = data
        self.elapsed = data["duration_us"] / 1e6
        self._done = data["requests"] - data["status"]
        self._p = {50: data["p50_us"] / 1e6, 99: data["p99_us"] / 1e6}
        if data["status"]:
            self.errors.append(f"{data['status']} responses other than 2xx/3xx")
        for kind in ("connect", "write", "timeout"):
            if data[kind]:
                self.errors.append(f"{data[kind]} {kind} errors")
        return self

    @property
    def rate(self):
        return self._done / self.elapsed if self.elapsed else 0.0

    @property
    def done(self):
        return self._done

    def percentile(self, p):
        return self._p[p]


# --- CPU ---------------------------------------------------------------------------------------


def cpu_busy(seconds=2.0):
    """Share of all CPUs in use over `seconds` (from /proc/stat), or None where there is none."""

    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total1, idle1 = sample()
        time.sleep(seconds)
        total2, idle2 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total2 - total1
    return 1 - (idle2 - idle1) / total if total else None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid):
    """(parent pid, command name, CPU ticks used) of a process, from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), name, int(fields[11]) + int(fields[12])  # ppid, utime + stime


class CpuMeter:
    """Where the machine's CPU went while a page was loaded (Linux only; else all None).

    server: gunicorn's processes; database: PostgreSQL's; client: this script (the load
    generator); others: everything else, which should be close to nothing for fair figures.
    """

    def __init__(self, server_pid):
        self.server_pid = server_pid
        self.ok = Path("/proc/stat").exists()

    def snapshot(self):
        if not self.ok:
            return None
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)
            server = database = 0
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    ppid, name, ticks = _proc_stat(entry.name)
                except (OSError, ValueError, IndexError):
                    continue  # it ended meanwhile
                if int(entry.name) == self.server_pid or ppid == self.server_pid:
                    server += ticks
                elif name == "postgres" or name.startswith("postgres:"):
                    database += ticks
            client = _proc_stat("self")[2]
        except (OSError, ValueError, IndexError):
            self.ok = False
            return None
        return {"busy": busy, "server": server, "database": database, "client": client}

    @staticmethod
    def usage(before, after, requests, seconds):
        """{server_ms, database_ms, client_ms: CPU per request; others: share of the machine}."""
        if not before or not after or not requests or not seconds:
            return None
        delta = {key: (after[key] - before[key]) / CLOCK_TICKS for key in before}
        ours = delta["server"] + delta["database"] + delta["client"]
        capacity = seconds * (os.cpu_count() or 1)
        return {
            "server_ms": delta["server"] / requests * 1000,
            "database_ms": delta["database"] / requests * 1000,
            "client_ms": delta["client"] / requests * 1000,
            "others": max(0.0, delta["busy"] - ours) / capacity,
        }


# --- one request, headers and sizes ------------------------------------------------------------


def probe(port, path, headers=None):
    """(status, {header: value}, body bytes as sent) of one GET over loopback."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), len(body)
    finally:
        conn.close()


def in_process_timings(paths, runs, data_cache, headers=None, after_a_comment=False):
    """{path: median ms} of `runs` GETs each with the test client, the page cache off and the
    data caches on or off, sending `headers` (e.g. a reader's cookie; the first, unmeasured
    request warms per-process state). With `after_a_comment`, each GET is the first after
    a new pages generation, as after a comment is approved: the content data (the post, the
    sidebar) is kept, the discussion is not."""
    import statistics

    from django.conf import settings
    from django.test import Client

    from core import pagecache

    settings.PAGE_CACHE_ENABLED = False
    settings.PAGE_CACHE_DATA = data_cache
    client = Client(HTTP_HOST=HOST, headers=headers or {})
    times = {path: [] for path in paths}
    for path in paths:
        client.get(path)
    # The pages in turn, run after run: a spell when the machine is busy slows them alike,
    # instead of the one measured then (the cost per comment is their difference).
    for _ in range(runs):
        for path in paths:
            if after_a_comment:
                pagecache.invalidate_discussion()  # outside a transaction: at once
            began = time.perf_counter()
            response = client.get(path)
            times[path].append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code} in-process")
    return {path: statistics.median(found) for path, found in times.items()}
