"""Benchmark Barnet Blog's public pages under gunicorn and PostgreSQL.

    make bench                                  # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --seconds 5 --requests 500 --keep-db

1. (Re)creates the PostgreSQL database `barnetblog_bench`, migrates it and fills it through the
   real models: an author, 30 published posts with categories and tags, and three posts with
   0, 50 and 500 public comments, threaded up to the deepest allowed level.
2. Starts gunicorn (2 workers, 1 thread each) on a free loopback port against that database.
3. For the home page and the three posts: counts SQL queries and bytes in-process (Django's
   test client), then sends load over HTTP from 4 client threads (keep-alive where the server
   offers it) and measures requests per second and p50/p99 latency.
4. Prints a Markdown table and writes it, with machine details, to bench/results/latest.md.

See bench/README.md. Exits non-zero when anything fails (a non-200 response, a server that
does not start, a database error); gunicorn is always stopped.
"""

import argparse
import datetime
import http.client
import math
import os
import platform
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/barnetblog_bench"
SECRET_KEY = "barnetblog-bench-key-not-secret-not-for-production-0123456789"
HOST = "127.0.0.1"
COMMENT_COUNTS = (0, 50, 500)
POSTS = 30  # published posts in all, the three discussion posts included
SEED = 2011


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


# --- the database ------------------------------------------------------------------------------


def _server_params(database_url, dbname):
    url = urllib.parse.urlsplit(database_url)
    params = {
        "dbname": dbname,
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": urllib.parse.unquote(url.username or "postgres"),
    }
    if url.password:
        params["password"] = urllib.parse.unquote(url.password)
    return params


def database_name(database_url):
    return urllib.parse.unquote(urllib.parse.urlsplit(database_url).path.lstrip("/"))


def database_exists(database_url):
    import psycopg2

    conn = psycopg2.connect(**_server_params(database_url, "postgres"))
    try:
        with conn.cursor() as cur:
            name = database_name(database_url)
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cur.fetchone() is not None
    finally:
        conn.close()


def recreate_database(database_url):
    import psycopg2
    from psycopg2 import sql

    name = database_name(database_url)
    conn = psycopg2.connect(**_server_params(database_url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # FORCE ends connections left over from an interrupted run (PostgreSQL 13+).
            ident = sql.Identifier(name)
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    finally:
        conn.close()


def setup_django(database_url):
    """Django in this process, on the bench database (before anything imports settings)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "barnetblog.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_SECURE"] = "false"  # plain HTTP on loopback (gunicorn inherits these)
    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY
    os.environ["DJANGO_ALLOWED_HOSTS"] = HOST
    os.environ["DJANGO_EMAIL_BACKEND"] = "locmem"  # filling the database must never send mail
    os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    # WhiteNoise notes that collectstatic has not run; the benchmark fetches HTML only.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()


# --- the data ----------------------------------------------------------------------------------

NAMES = [
    "Mrs Angry", "Mr Mustard", "Citizen Barnet", "Vicki Morris", "Derek Dishman",
    "Theresa Musgrove", "John Dix", "Helen Michael", "Roger Tichborne", "Susan Kaye",
    "Barbara Jacobson", "Daniel Hope", "Priya Shah", "Tom Kelly", "Ayesha Begum",
    "Gerald Finch", "Maureen O'Hara", "Ravi Patel", "Linda Rose", "Kwame Mensah",
]  # fmt: skip

SENTENCES = [
    "The consultation closed before most residents in my street had even heard of it.",
    "Could the councillor say how much the external consultants were paid last year?",
    "Our library opening hours have been cut twice since the last election.",
    "I attended the scrutiny committee and the minutes do not reflect what was said.",
    "The business case assumes savings that the auditors have already questioned.",
    "Parking charges in the high street are driving shoppers to Brent Cross.",
    "Thank you for replying, but you have not answered the question about the contract.",
    "The report is at https://barnet.moderngov.co.uk/ for anyone who wants to read it.",
    "My mother waited forty minutes on the phone to the call centre this morning.",
    "Residents deserve to see the full figures, not a summary prepared by the contractor.",
    "Which ward councillors voted for the proposal, and which abstained?",
    "There was a similar scheme in another borough and it cost twice the estimate.",
    "I am grateful for the explanation; it is clearer than the council's own leaflet.",
    "Is there a date for the next public meeting on this?",
    "Freedom of information requests on this have been refused three times.",
    "The pavements on the Broadway have not been repaired since the winter.",
]


def paragraph(rng, sentences=(2, 5)):
    return " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(*sentences)))


def post_body(rng, n):
    parts = [paragraph(rng, (3, 6)) for _ in range(3)]
    return "\n\n".join(
        [
            parts[0],
            "## What was decided",
            parts[1],
            "- the report to the cabinet\n- the equality impact assessment\n- the minutes",
            f"Read more in [the committee papers](https://barnet.moderngov.co.uk/ieListDocuments.aspx?Id={n}).",
            parts[2],
        ]
    )


def comment_text(rng):
    return "\n\n".join(paragraph(rng) for _ in range(rng.choice((1, 1, 2, 3))))


def fill_database():
    """An author, categories, tags, 30 posts, and the 0/50/500-comment discussions."""
    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site
    from django.db import transaction
    from django.utils import timezone

    from comments.models import PostLike
    from posts.models import Author, Category, Post, Tag

    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        Site.objects.update_or_create(pk=1, defaults={"domain": HOST, "name": "Barnet Blog"})
        user = get_user_model().objects.create_user(
            "bench-councillor", "councillor@example.org", "bench-password-not-used", is_staff=True
        )
        author = Author.objects.create(user=user, display_name="Robert Rams", slug="robert-rams")
        categories = [
            Category.objects.create(name=name, slug=name.lower().replace(" ", "-"))
            for name in ("Council services", "Budget", "Planning", "Libraries", "Transport")
        ]
        tags = [
            Tag.objects.create(name=name, slug=name.replace(" ", "-"))
            for name in (
                "one barnet", "consultation", "cabinet", "outsourcing",
                "scrutiny", "parking", "finance", "residents",
            )
        ]  # fmt: skip
        posts = {}
        for n in range(POSTS):
            # The three discussion posts are the newest, so the home page shows their counts.
            count = COMMENT_COUNTS[n] if n < len(COMMENT_COUNTS) else None
            title = (
                f"Bench discussion with {count} comments"
                if count is not None
                else f"Council decision number {n}: {rng.choice(SENTENCES)[:60]}"
            )
            post = Post(
                title=title,
                author=author,
                body=post_body(rng, n),
                status=Post.Status.PUBLISHED,
                published_at=now - datetime.timedelta(days=n + 1, hours=rng.randint(0, 8)),
            )
            post.save()
            post.categories.set(rng.sample(categories, rng.randint(1, 2)))
            post.tags.set(rng.sample(tags, rng.randint(2, 4)))
            if count is not None:
                posts[count] = post
        for count, post in posts.items():
            add_comments(post, count, user, author, rng)
            PostLike.objects.bulk_create(
                PostLike(post=post, visitor=f"bench-visitor-{i}") for i in range(count // 10)
            )
    return posts


def add_comments(post, count, user, author, rng):
    """`count` public comments, saved one by one through the model so threading is xtd's own.

    The first five form a chain to the deepest level; after that about a third start a new
    thread and the rest reply to a recent comment (which keeps threads several levels deep).
    Every seventh reply is the post's author, for the "Author" badge.
    """
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType

    from comments.models import Comment

    max_level = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    content_type = ContentType.objects.get_for_model(post)
    start = post.published_at + datetime.timedelta(hours=1)
    saved = []  # (pk, level) of every comment so far
    for i in range(count):
        if i == 0 or (i > max_level and rng.random() < 0.33):
            parent = None
        elif i <= max_level:
            parent = saved[-1]
        else:
            recent = [c for c in saved[-12:] if c[1] < max_level] or [saved[0]]
            parent = rng.choice(recent)
        by_author = parent is not None and i % 7 == 0
        name = rng.choice(NAMES)
        comment = Comment(
            content_type=content_type,
            object_pk=str(post.pk),
            site_id=settings.SITE_ID,
            user=user if by_author else None,
            user_name=author.display_name if by_author else name,
            user_email=user.email if by_author else f"{name.split()[-1].lower()}{i}@example.org",
            user_url="" if by_author or i % 4 else "https://brokenbarnet.blogspot.com/",
            comment=comment_text(rng),
            submit_date=start + datetime.timedelta(minutes=7 * i),
            ip_address=f"192.0.2.{i % 250 + 1}",
            is_public=True,
            is_removed=False,
            confirmed=True,
            parent_id=parent[0] if parent else 0,
        )
        comment.save()
        saved.append((comment.pk, comment.level))


def check_threads(posts):
    """Every reply sits in its parent's thread one level down; orders are unique per thread."""
    from comments.models import Comment

    problems = []
    for count, post in posts.items():
        rows = list(
            Comment.objects.for_post(post).values("pk", "thread_id", "parent_id", "level", "order")
        )
        by_pk = {row["pk"]: row for row in rows}
        public = Comment.objects.for_post(post).public().count()
        if public != count:
            problems.append(f"post with {count} comments has {public} public ones")
        seen = set()
        for row in rows:
            key = (row["thread_id"], row["order"])
            if key in seen:
                problems.append(f"comment {row['pk']}: order {row['order']} repeated in its thread")
            seen.add(key)
            if row["parent_id"] == row["pk"]:
                if row["level"] != 0 or row["thread_id"] != row["pk"]:
                    problems.append(f"comment {row['pk']}: a thread root out of place")
                continue
            parent = by_pk.get(row["parent_id"])
            if (
                parent is None
                or parent["thread_id"] != row["thread_id"]
                or parent["level"] + 1 != row["level"]
            ):
                problems.append(f"comment {row['pk']}: threading does not match its parent")
    if problems:
        raise RuntimeError("inconsistent comment threads:\n  " + "\n  ".join(problems[:20]))


def bench_posts():
    """{comment count: post} from a filled bench database, or None when it is not one."""
    from django.db.utils import DatabaseError

    from comments.models import Comment
    from posts.models import Post

    try:
        posts = {
            count: Post.objects.filter(title=f"Bench discussion with {count} comments").first()
            for count in COMMENT_COUNTS
        }
        if any(post is None for post in posts.values()):
            return None
        if any(Comment.objects.for_post(p).public().count() != c for c, p in posts.items()):
            return None
    except DatabaseError:
        return None
    return posts


def prepare_database(args):
    from django.core.management import call_command
    from django.db import connection, connections

    posts = None
    if args.keep_db and database_exists(args.database_url):
        call_command("migrate", interactive=False, verbosity=0)
        posts = bench_posts()
        if posts:
            log("Reusing the bench database (--keep-db).")
    if posts is None:
        log(f"Creating database {database_name(args.database_url)!r} and migrating…")
        connections.close_all()
        recreate_database(args.database_url)
        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        posts = fill_database()
        # As autovacuum would soon: planner statistics, and no dead rows from threading's
        # updates (otherwise the figures drift while autovacuum catches up mid-run).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        log(
            f"Filled it in {time.perf_counter() - started:.1f} s: {POSTS} posts, "
            f"{sum(COMMENT_COUNTS)} comments saved through the model."
        )
    check_threads(posts)
    connections.close_all()
    return posts


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


def start_gunicorn(database_url, port, workers, log_path):
    env = {
        **os.environ,
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
            conn.request("GET", "/")
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

    def __init__(self, port, path, count, seconds, concurrency):
        self.port, self.path = port, path
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
                conn.request("GET", self.path, headers={"Accept-Encoding": "identity"})
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


# --- the report --------------------------------------------------------------------------------


def machine_info(database_url, busy):
    import django
    import gunicorn
    import psycopg2

    conn = psycopg2.connect(**_server_params(database_url, database_name(database_url)))
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


def log(message):
    print(message, file=sys.stderr, flush=True)


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
