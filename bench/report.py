"""The benchmark's report: the machine, the tables, and bench/results/latest.md.

- `machine_info()`: CPU, OS, Python, PostgreSQL, Django and gunicorn versions, the commit, and
  how busy the machine was before and after the run;
- `load_tables()`: per mode, each page's req/s, p50, p99 and ratio to /healthz, anonymous
  and with a reader's cookie;
- `page_table()`, `costs_table()`, `header_tables()`: SQL queries and bytes, in-process
  milliseconds (fixed and per comment), and the caching headers each page sends;
- `write_report()`: all of them, the machine and every page's SQL, as Markdown.
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


HEADERS = ("Cache-Control", "Vary", "ETag", "Last-Modified", "Content-Encoding", "X-Page-Cache")


def load_tables(rows):
    """Per mode: each page's req/s, p50, p99 and ratio to /healthz, anonymous and with a
    reader's cookie (the ratio is to /healthz anonymous, in the same mode)."""
    out = []
    modes = list(dict.fromkeys(row["mode"] for row in rows))
    for mode in modes:
        mine = [row for row in rows if row["mode"] == mode]
        base = next((r["rate"] for r in mine if r["page"].startswith("/healthz")), 0) or None
        by_page = {}
        for row in mine:
            by_page.setdefault(row["page"], {})[row["reader"]] = row
        out += [
            f"### {mode}",
            "",
            "| page | anon req/s | p50 ms | p99 ms | × /healthz | cookie req/s | p50 ms "
            "| p99 ms | × /healthz | gunicorn CPU ms/req (anon) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for page, readers in by_page.items():
            cells = []
            for reader in ("anonymous", "reader's cookie"):
                row = readers.get(reader)
                if row is None:
                    cells.append("– | – | – | –")
                    continue
                ratio = f"{row['rate'] / base:.2f}" if base else "–"
                cells.append(f"{row['rate']:.0f} | {row['p50']:.1f} | {row['p99']:.1f} | {ratio}")
            cpu = readers.get("anonymous", {}).get("cpu")
            cells.append(f"{cpu['server_ms']:.1f}" if cpu else "–")
            out.append(f"| {page} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def page_table(pages, measured, measured_cold, sizes):
    """SQL queries in-process (page cache off), comments shown, bytes sent plain and gzip."""
    lines = [
        "| page | path | SQL, data caches on | SQL, all cold | comments shown "
        "| bytes plain | bytes gzip |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, path, _ in pages:
        size = next((v for (mode, page), v in sizes.items() if page == name), None)
        plain, gz = (f"{size[0]:,}", f"{size[1]:,}") if size else ("–", "–")
        lines.append(
            f"| {name} | `{path}` | {measured[name][0]} | {measured_cold[name][0]} "
            f"| {measured[name][2]} | {plain} | {gz} |"
        )
    return "\n".join(lines)


def costs_table(costs):
    lines = [
        "| in-process, page cache off | fixed: post, 0 comments, ms | post, 500 comments, "
        "first page, ms | comments rendered | ms per comment |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, c in costs.items():
        lines.append(
            f"| {label} | {c['fixed']:.2f} | {c['t500']:.2f} | {c['shown']} "
            f"| {c['per_comment']:.4f} |"
        )
    return "\n".join(lines)


def header_tables(pages, headers_seen):
    """The headers an anonymous client gets (Accept-Encoding: gzip), per mode; X-Page-Cache
    is given for the first request and the next (identity) one."""
    out = []
    modes = list(dict.fromkeys(mode for mode, _ in headers_seen))
    for mode in modes:
        out += [
            f"### {mode}",
            "",
            "| page | " + " | ".join(HEADERS) + " |",
            "| --- |" + " --- |" * len(HEADERS),
        ]
        for name, _, _ in pages:
            seen = headers_seen.get((mode, name))
            if not seen:
                continue
            first = {k.lower(): v for k, v in seen["first"].items()}
            second = {k.lower(): v for k, v in seen["second"].items()}
            cells = []
            for header in HEADERS:
                value = first.get(header.lower(), "–")
                if header == "X-Page-Cache":
                    value = f"{value}, then {second.get('x-page-cache', '–')}"
                cells.append(value.replace("|", "\\|"))
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def write_report(
    args, info, pages, rows, measured, measured_cold, sizes, headers_seen, costs, path
):
    """Writes bench/results/latest.md and returns its tables (what the script prints)."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    tables = [
        "## Load: req/s, latency, ratio to /healthz",
        "",
        load_tables(rows),
        "## Pages: SQL queries and bytes",
        "",
        page_table(pages, measured, measured_cold, sizes),
        "",
        f"## In-process cost (Django test client, median of {args.runs} runs)",
        "",
        costs_table(costs),
        "",
        "## Headers seen by an anonymous client",
        "",
        header_tables(pages, headers_seen),
    ]
    out = [
        "# Barnet Blog benchmark",
        "",
        f"Run {now}: gunicorn, {args.workers} sync workers × 1 thread, PostgreSQL, "
        f"`DJANGO_DEBUG=false`, GETs over loopback with `Accept-Encoding: gzip`, "
        f"{args.rounds} round(s) over all the pages of {args.seconds:g} s per page and case, "
        f"each figure the median of the rounds. {info['load generator']}.",
        "",
        *tables,
        "| machine | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in info.items()),
        "",
        "## SQL per page (warm process, anonymous reader, data caches on)",
        "",
    ]  # fmt: skip
    for name, m in measured.items():
        out.append(f"<details><summary>{name}: {len(m[3])} queries</summary>\n")
        out.append("```sql")
        out.extend(m[3])
        out.append("```\n</details>\n")
    path.write_text("\n".join(out))
    return "\n".join(tables)
