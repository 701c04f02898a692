"""The benchmark's report: the machine, the tables, and bench/results/latest.md.

- `machine_info()`: CPU, OS, Python, PostgreSQL, Django and gunicorn versions, the commit, and
  how busy the machine was before and after the run;
- `table()`: SQL queries, bytes, req/s, p50 and p99 per page (the README's first table);
- `detail_table()`: how each page's load went and where the CPU time went, per request;
- `write_report()`: both tables, the machine and every page's SQL, as Markdown.
"""

import datetime
import os
import platform
import subprocess
from pathlib import Path

from bench.data import REPO, database_name, server_params

RESULTS = REPO / "bench" / "results"


def machine_info(database_url, busy):
    import django
    import gunicorn
    import psycopg2

    conn = psycopg2.connect(**server_params(database_url, database_name(database_url)))
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            pg_version = cur.fetchone()[0]
    finally:
        conn.close()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO, capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
    except OSError:
        commit = ""
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": str(nproc),
        "CPU": cpu,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": pg_version,
        "Django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "commit": commit or "unknown",
        "CPU busy before the run": "unknown" if busy is None else f"{busy:.0%} (other processes)",
        "load average after the run": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def table(rows):
    lines = [
        "| page | SQL queries | bytes | req/s | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['page']} | {row['queries']} | {row['bytes']:,} | {row['rate']:.1f} "
            f"| {row['p50']:.1f} | {row['p99']:.1f} |"
        )
    return "\n".join(lines)


def detail_table(rows):
    """How each page's load went, and where the CPU time went (per request)."""
    lines = [
        "| page | requests | seconds | TCP connections | comments shown | gunicorn CPU ms/req "
        "| PostgreSQL CPU ms/req | client CPU ms/req | other processes' CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        cpu = row["cpu"]
        usage = (
            f"{cpu['server_ms']:.1f} | {cpu['database_ms']:.1f} | {cpu['client_ms']:.1f} "
            f"| {cpu['others']:.0%}"
            if cpu
            else "– | – | – | –"
        )
        lines.append(
            f"| {row['page']} | {row['done']} | {row['elapsed']:.1f} | {row['connections']} "
            f"| {row['shown']} | {usage} |"
        )
    return "\n".join(lines)


def write_report(args, info, rows, details, path):
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Barnet Blog benchmark",
        "",
        f"Run {now} with `bench/run.py --requests {args.requests} --seconds {args.seconds:g} "
        f"--concurrency {args.concurrency}`: gunicorn, {args.workers} sync workers "
        f"× 1 thread, PostgreSQL, `DJANGO_DEBUG=false`, anonymous GETs over loopback.",
        "",
        table(rows),
        "",
        "| machine | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in info.items()),
        "",
        detail_table(rows),
        "",
        "## SQL per page (warm process, anonymous reader)",
        "",
    ]  # fmt: skip
    for name, sqls in details.items():
        out.append(f"<details><summary>{name}: {len(sqls)} queries</summary>\n")
        out.append("```sql")
        out.extend(sqls)
        out.append("```\n</details>\n")
    path.write_text("\n".join(out))
