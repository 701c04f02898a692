"""Benchmark Barnet Blog's public pages under gunicorn and PostgreSQL.

    make bench                                  # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --seconds 3 --rounds 5 --keep-db

1. (Re)creates the PostgreSQL database `barnetblog_bench`, migrates it and fills it through the
   project's own code: an author, 30 published posts with categories and tags, and three posts
   with 0, 50 and 500 public comments, threaded up to the deepest allowed level (bench/data.py).
2. Starts gunicorn (2 workers, 1 thread each) on a free loopback port against that database.
3. For each page (/healthz, the home page, the posts, an archive, the feed, a search): counts
   SQL queries and bytes in-process (Django's test client), then sends load over HTTP (wrk,
   or its own client) in rounds over all the pages and measures requests per second and
   p50/p99 latency, the median of the rounds (bench/load.py).
4. Prints a Markdown table and writes it, with machine details, to bench/results/latest.md
   (bench/report.py).

This module reads the command line and ties the others together; it runs as a script
(`python bench/run.py`, as `make bench` does) or as `python -m bench.run`.

See bench/README.md. Exits non-zero when anything fails (a non-200 response, a server that
does not start, a database error); gunicorn is always stopped.
"""

import argparse
import os
import signal
import statistics
import sys
import urllib.parse
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script, Python puts bench/ first on sys.path: the repository root instead, so
    # that `bench` (and the project's own packages) import, and bench's modules shadow nothing.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.data import (  # noqa: E402
    COMMENT_COUNTS,
    DEFAULT_DATABASE_URL,
    HOST,
    REPO,
    log,
    prepare_database,
    setup_django,
)
from bench.load import (  # noqa: E402
    WRK_HINT,
    CpuMeter,
    Load,
    WrkLoad,
    cpu_busy,
    find_wrk,
    free_port,
    in_process_timings,
    measure_in_process,
    probe,
    start_gunicorn,
    stop_gunicorn,
    wait_until_serving,
)
from bench.report import RESULTS, machine_info, write_report  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"


MODES = (
    # (name, gunicorn environment beyond the bench database's)
    ("cold: page cache off, data caches on", {"BARNETBLOG_PAGE_CACHE": "false"}),
    (
        "fully cold: page and data caches off",
        {"BARNETBLOG_PAGE_CACHE": "false", "BARNETBLOG_DATA_CACHE": "false"},
    ),
    ("warm: page cache on, Redis", {"BARNETBLOG_PAGE_CACHE": "true"}),
)
READERS = (
    ("anonymous", {}),
    # Any cookie of PAGE_CACHE_PERSONAL_COOKIES makes the page the reader's own (made afresh).
    ("reader's cookie", {"Cookie": "bb_visitor=bench-reader"}),
)
SEARCH_WORD = "consultation"  # in every bench post's text


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Serve Barnet Blog with gunicorn, PostgreSQL and Redis and measure its "
        "pages, cold and warm, as ratios to its own no-database endpoint /healthz.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to (re)create and fill; its name must contain 'bench' "
        f"(default: {DEFAULT_DATABASE_URL}, or $BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        help=f"Redis database for the warm mode; FLUSHDB'd first (default: {DEFAULT_REDIS_URL})",
    )
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="seconds of load per page, case and round (2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="rounds over all the pages, /healthz included; each figure is their median (3)",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 2 s per page and case, 10 in-process runs"
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="open connections (wrk) or threads (16)"
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument(
        "--client", choices=("auto", "wrk", "builtin"), default="auto",
        help="load generator: wrk when installed (auto), or the built-in Python client",
    )  # fmt: skip
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of unmeasured load before a page is first measured (1)",
    )
    parser.add_argument("--runs", type=int, default=30, help="in-process runs per page (30)")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (2, one thread each)"
    )
    parser.add_argument(
        "--modes", default="0,1,2",
        help="which modes, by number: 0 cold, 1 fully cold, 2 warm (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="reuse the bench database from an earlier run when it holds the bench data",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.runs, args.warmup = 2.0, 1, 10, 0.5
    for name in ("connections", "threads", "workers", "runs", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    args.modes = [int(m) for m in args.modes.split(",") if m.strip()]
    if not args.modes or any(m not in range(len(MODES)) for m in args.modes):
        parser.error("--modes takes numbers among 0, 1, 2")
    url = urllib.parse.urlsplit(args.database_url)
    if url.scheme not in ("postgres", "postgresql", "pgsql"):
        parser.error("--database-url must be a postgres:// URL")
    name = url.path.lstrip("/")
    if "bench" not in name:
        # The script drops and recreates this database: never let it be a real one.
        parser.error(f"the database name must contain 'bench' (it is dropped): {name!r}")
    redis = urllib.parse.urlsplit(args.redis_url)
    if redis.scheme != "redis" or redis.hostname not in ("127.0.0.1", "localhost"):
        parser.error("--redis-url must be redis://127.0.0.1:<port>/<db> (it is flushed)")
    return args


def flush_redis(url):
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def bench_pages(posts):
    """[(name, path, expected text)]: /healthz first, the baseline of every ratio."""
    from django.utils import timezone

    busy = posts[500]
    day = timezone.localtime(busy.published_at)
    return [
        ("/healthz (no database)", "/healthz", "ok"),
        ("home `/`", "/", ""),
        *(
            (f"post, {count} comments", posts[count].get_absolute_url(), f"{count} Responses to")
            for count in COMMENT_COUNTS
        ),
        ("post, 500 comments, `?cpage=2`", busy.get_absolute_url() + "?cpage=2", ""),
        ("archive, month", f"/{day:%Y}/{day:%m}/", ""),
        ("feed `/feed/`", "/feed/", ""),
        (f"search `?q={SEARCH_WORD}`", f"/search/?q={SEARCH_WORD}", ""),
    ]


def median_of_rounds(found):
    """One row's figures from its rounds: the median of each (requests summed)."""
    cpus = [r["cpu"] for r in found if r["cpu"]]
    cpu = {key: statistics.median(c[key] for c in cpus) for key in cpus[0]} if cpus else None
    return {
        "rate": statistics.median(r["rate"] for r in found),
        "p50": statistics.median(r["p50"] for r in found),
        "p99": statistics.median(r["p99"] for r in found),
        "done": sum(r["done"] for r in found),
        "cpu": cpu,
    }


def make_load(args, port, path, seconds, headers):
    headers = {"Accept-Encoding": "gzip", **headers}
    if args.client_used == "wrk":
        script = RESULTS / "wrk-summary.lua"
        return WrkLoad(port, path, seconds, args.connections, args.threads, headers, script)
    return Load(port, path, 10**9, seconds, args.connections, headers)


# --- main --------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # In-process: the page cache off, data caches in a folder of the bench's own.
    os.environ["BARNETBLOG_PAGE_CACHE"] = "false"
    os.environ["DJANGO_PAGE_CACHE_DIR"] = str(RESULTS / "page-cache")
    os.environ.pop("REDIS_URL", None)
    setup_django(args.database_url)
    wrk = find_wrk()
    args.client_used = "wrk" if wrk and args.client != "builtin" else "builtin"
    if args.client == "wrk" and not wrk:
        log(WRK_HINT)
        return 2
    if args.client_used == "builtin":
        log(WRK_HINT + "; using the built-in Python client, which shares the CPU it measures.")

    posts = prepare_database(args)
    busy = cpu_busy()
    if busy is not None and busy > 0.25:
        log(f"Warning: {busy:.0%} of the CPUs were busy before the run; figures will be low.")
    pages = bench_pages(posts)

    log("In-process: queries, bytes, times (page cache off)…")
    from django.conf import settings

    settings.PAGE_CACHE_ENABLED = False
    settings.PAGE_CACHE_DATA = True
    measured = measure_in_process(pages)
    settings.PAGE_CACHE_DATA = False
    measured_cold = measure_in_process(pages)
    post0, post500 = posts[0].get_absolute_url(), posts[500].get_absolute_url()
    costs = {}
    cookie = dict(READERS)["reader's cookie"]
    for label, data_cache, headers, after_a_comment in (
        ("data caches on", True, {}, False),
        ("data caches on, reader's cookie", True, cookie, False),
        ("first render after a comment (content data kept)", True, {}, True),
        ("everything cold (after a post is edited)", False, {}, False),
    ):
        times = in_process_timings(
            [post0, post500], args.runs, data_cache, headers, after_a_comment
        )
        shown = measured[pages[4][0]][2]
        costs[label] = {
            "fixed": times[post0],
            "t500": times[post500],
            "shown": shown,
            "per_comment": (times[post500] - times[post0]) / shown if shown else float("nan"),
        }
    from django.db import connections

    connections.close_all()

    rows, headers_seen, sizes, failures = [], {}, {}, []
    log_path = RESULTS / "gunicorn.log"
    for mode_number in args.modes:
        mode, mode_env = MODES[mode_number]
        extra = dict(mode_env)
        if "true" in mode_env.values():
            flush_redis(args.redis_url)
            extra["REDIS_URL"] = args.redis_url
        else:
            extra["DJANGO_PAGE_CACHE_DIR"] = str(RESULTS / "page-cache")
        port = free_port()
        proc = None
        try:
            log(f"[{mode}] gunicorn on {HOST}:{port}, {args.workers} sync workers…")
            proc = start_gunicorn(args.database_url, port, args.workers, log_path, extra)
            wait_until_serving(proc, port, log_path)
            meter = CpuMeter(proc.pid)
            for name, path, _ in pages:
                # What an anonymous client sees: headers (gzip), and the bytes either way.
                status, head, gz = probe(port, path, {"Accept-Encoding": "gzip"})
                _, head2, plain = probe(port, path, {"Accept-Encoding": "identity"})
                if status != 200:
                    failures.append(f"{mode}, {name}: HTTP {status}")
                headers_seen[(mode, name)] = {"first": head, "second": head2}
                sizes[(mode, name)] = (plain, gz)
            # Every page (the baseline /healthz too) once a round, the rounds one after the
            # other: a busy spell of this shared machine slows one round of each page, not
            # every measure of one page, and the median of the rounds sets it aside.
            rounds = {}
            for round_number in range(args.rounds):
                for name, path, _ in pages:
                    for reader, reader_headers in READERS:
                        if args.warmup and round_number == 0:
                            make_load(args, port, path, args.warmup, reader_headers).run()
                        before = meter.snapshot()
                        load = make_load(args, port, path, args.seconds, reader_headers).run()
                        cpu = CpuMeter.usage(before, meter.snapshot(), load.done, load.elapsed)
                        failures += [f"{mode}, {name}, {reader}: {e}" for e in load.errors[:3]]
                        rounds.setdefault((name, reader), []).append(
                            {
                                "rate": load.rate,
                                "p50": load.percentile(50) * 1000,
                                "p99": load.percentile(99) * 1000,
                                "done": load.done,
                                "cpu": cpu,
                            }
                        )
                        log(
                            f"  [{round_number + 1}/{args.rounds}] {name}, {reader}: "
                            f"{load.rate:.0f} req/s, p50 {load.percentile(50) * 1000:.1f} ms, "
                            f"p99 {load.percentile(99) * 1000:.1f} ms"
                        )
                        if cpu and cpu["others"] > 0.1:
                            log(f"  Warning: other processes used {cpu['others']:.0%} meanwhile")
            for name, _, _ in pages:
                for reader, _ in READERS:
                    rows.append({"mode": mode, "page": name, "reader": reader,
                                 **median_of_rounds(rounds[(name, reader)])})  # fmt: skip
            if proc.poll() is not None:
                failures.append(f"{mode}: gunicorn exited early with {proc.returncode}")
        finally:
            stop_gunicorn(proc)

    info = machine_info(args.database_url, busy)
    info["load generator"] = (
        f"wrk ({wrk}), {args.threads} thread(s), {args.connections} connections"
        if args.client_used == "wrk"
        else f"built-in Python client, {args.connections} threads"
    )
    report = RESULTS / "latest.md"
    text = write_report(
        args, info, pages, rows, measured, measured_cold, sizes, headers_seen, costs, report
    )
    print(text)
    log(f"Written to {report.relative_to(REPO)} (gunicorn's log: {log_path.relative_to(REPO)}).")
    if failures:
        log("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


def _interrupted(signum, frame):
    raise KeyboardInterrupt  # so that `kill <pid>` stops gunicorn too, like Ctrl-C


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("Interrupted.")
        sys.exit(130)
    except Exception as error:  # a clear message and a non-zero exit, traceback included
        import traceback

        traceback.print_exc()
        log(f"bench failed: {error}")
        sys.exit(1)
