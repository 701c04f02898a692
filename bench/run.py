"""Benchmark Barnet Blog's public pages under gunicorn and PostgreSQL.

    make bench                                  # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --seconds 5 --requests 500 --keep-db

1. (Re)creates the PostgreSQL database `barnetblog_bench`, migrates it and fills it through the
   project's own code: an author, 30 published posts with categories and tags, and three posts
   with 0, 50 and 500 public comments, threaded up to the deepest allowed level (bench/data.py).
2. Starts gunicorn (2 workers, 1 thread each) on a free loopback port against that database.
3. For the home page and the three posts: counts SQL queries and bytes in-process (Django's
   test client), then sends load over HTTP from 4 client threads (keep-alive where the server
   offers it) and measures requests per second and p50/p99 latency (bench/load.py).
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
    CpuMeter,
    Load,
    cpu_busy,
    free_port,
    measure_in_process,
    start_gunicorn,
    stop_gunicorn,
    wait_until_serving,
)
from bench.report import RESULTS, detail_table, machine_info, table, write_report  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Serve Barnet Blog with gunicorn and PostgreSQL and measure its pages.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to (re)create and fill; its name must contain 'bench' "
        f"(default: {DEFAULT_DATABASE_URL}, or $BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="measured requests per page at most (2000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="seconds of measured load per page at most (10)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="client threads sending requests (4)"
    )
    parser.add_argument(
        "--warmup", type=int, default=50, help="unmeasured requests per page first (50, max 5 s)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (2, one thread each)"
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="reuse the bench database from an earlier run when it holds the bench data",
    )
    args = parser.parse_args(argv)
    for name in ("requests", "concurrency", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    url = urllib.parse.urlsplit(args.database_url)
    if url.scheme not in ("postgres", "postgresql", "pgsql"):
        parser.error("--database-url must be a postgres:// URL")
    name = url.path.lstrip("/")
    if "bench" not in name:
        # The script drops and recreates this database: never let it be a real one.
        parser.error(f"the database name must contain 'bench' (it is dropped): {name!r}")
    return args


# --- main --------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    setup_django(args.database_url)
    RESULTS.mkdir(parents=True, exist_ok=True)

    posts = prepare_database(args)
    busy = cpu_busy()
    if busy is not None and busy > 0.25:
        log(
            f"Warning: {busy:.0%} of the CPUs were busy before the benchmark started; "
            "other processes will slow the figures down."
        )
    pages = [("home `/`", "/", "")] + [
        (f"post, {count} comments", posts[count].get_absolute_url(), f"{count} Responses to")
        for count in COMMENT_COUNTS
    ]
    log("Counting queries and bytes in-process…")
    measured = measure_in_process(pages)
    from django.db import connections

    connections.close_all()

    port = free_port()
    log_path = RESULTS / "gunicorn.log"
    proc = None
    rows, failures = [], []
    try:
        log(f"Starting gunicorn on {HOST}:{port} ({args.workers} workers × 1 thread)…")
        proc = start_gunicorn(args.database_url, port, args.workers, log_path)
        wait_until_serving(proc, port, log_path)
        meter = CpuMeter(proc.pid)
        for name, path, _ in pages:
            if args.warmup:
                warm = Load(port, path, args.warmup, 5.0, args.concurrency).run()
                failures += [f"{name} (warm-up): {e}" for e in warm.errors[:3]]
            log(f"Loading {name} ({path})…")
            before = meter.snapshot()
            load = Load(port, path, args.requests, args.seconds, args.concurrency).run()
            cpu = CpuMeter.usage(before, meter.snapshot(), len(load.latencies), load.elapsed)
            failures += [f"{name}: {e}" for e in load.errors[:5]]
            if len(load.errors) > 5:
                failures.append(f"{name}: … {len(load.errors)} errors in all")
            queries, size, shown, _ = measured[name]
            rows.append(
                {
                    "page": name,
                    "queries": queries,
                    "bytes": size,
                    "rate": load.rate,
                    "p50": load.percentile(50) * 1000,
                    "p99": load.percentile(99) * 1000,
                    "done": len(load.latencies),
                    "elapsed": load.elapsed,
                    "connections": load.connections,
                    "shown": shown,
                    "cpu": cpu,
                }
            )
            log(
                f"  {load.rate:.1f} req/s, p50 {rows[-1]['p50']:.1f} ms, "
                f"p99 {rows[-1]['p99']:.1f} ms ({len(load.latencies)} requests)"
                + (f", gunicorn CPU {cpu['server_ms']:.1f} ms/request" if cpu else "")
            )
            if cpu and cpu["others"] > 0.1:
                log(
                    f"  Warning: other processes used {cpu['others']:.0%} of the machine "
                    "meanwhile; these figures are low. Run again on a quiet machine."
                )
        if proc.poll() is not None:
            failures.append(f"gunicorn exited early with {proc.returncode}")
    finally:
        stop_gunicorn(proc)

    info = machine_info(args.database_url, busy)
    report = RESULTS / "latest.md"
    write_report(args, info, rows, {name: m[3] for name, m in measured.items()}, report)
    print(table(rows))
    print()
    print(detail_table(rows))
    print()
    print(", ".join(f"{key} {value}" for key, value in info.items()))
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
