"""Load and fault scenarios for comments and email (issue 9: scenarios 2, 3 and 5).

    .venv/bin/python bench/scenarios.py            # 1,000 comments from 50 clients, a PostgreSQL
                                                   # restart, the mail server down for 60 s
    .venv/bin/python bench/scenarios.py --quick    # 200 comments from 20 clients, 3 s without
                                                   # mail: about a minute and a half

Everything runs on loopback and is made by the script, then removed: a private PostgreSQL
cluster (`pg_createcluster 15 bbfault --port 5439`; never the one on 5432, which it does not
touch), gunicorn serving `barnetblog.wsgi` on it (2 sync workers), a mail worker
(`manage.py mail_worker`) and a local SMTP server (aiosmtpd). Run it as root (or as a user
that may run pg_createcluster); it refuses to start when the cluster's port is taken.

2. **Comments under load**: `--comments` comment POSTs from `--clients` concurrent clients,
   each as a resident does it: GET the post page, read the signed form (timestamp and security
   hash), wait out the minimum writing time, fill it in and POST it. Every tenth comment is
   double-clicked (sent twice at once). Reports comments stored vs acknowledged, duplicates,
   errors and throughput.
3. **PostgreSQL restarted in the middle of scenario 2** (`pg_ctlcluster … stop -m fast`, a
   pause, `start`): clients that get an error send again, as a resident would. Reports that
   every POST acknowledged with a redirect to its comment is stored (and stored once), the
   errors while the database was away, and how long after it came back comments were accepted.
5. **The mail server down**: the confirmation emails the comments queued are delivered by the
   mail worker to an SMTP server that is down for `--mail-down` seconds, then up. Reports
   emails queued, delivered, lost and delivered twice, and the time to drain the queue.

The rate limits are loosened for the run (every comment comes from 127.0.0.1) through the
settings' environment variables, and the minimum writing time is 1 s (0.25 s with --quick).
Prints the figures and writes them as JSON with `--json`; exits non-zero when a check fails.
"""

import argparse
import html.parser
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.data import HOST, REPO, SECRET_KEY, log  # noqa: E402
from bench.load import free_port, start_gunicorn, stop_gunicorn, wait_until_serving  # noqa: E402

PG_VERSION = "15"


# --- a private PostgreSQL cluster ----------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster of the scenario's own (Debian's pg_createcluster), trusting
    loopback connections, removed by `close()` whatever happened."""

    def __init__(self, name, port):
        self.name, self.port = name, port
        self.conf = Path(f"/etc/postgresql/{PG_VERSION}/{name}")

    def _run(self, *command):
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def create(self):
        if shutil.which("pg_createcluster") is None:
            raise RuntimeError("pg_createcluster not found: Debian's postgresql-common is needed")
        if self.conf.exists():  # left by an interrupted run: it is ours, by its name
            subprocess.run(["pg_dropcluster", PG_VERSION, self.name, "--stop"], check=False)
        self._run("pg_createcluster", PG_VERSION, self.name, "--port", str(self.port))
        hba = self.conf / "pg_hba.conf"
        hba.write_text(
            "local all postgres peer\nhost all all 127.0.0.1/32 trust\n" + hba.read_text()
        )
        self.start()

    def start(self):
        self._run("pg_ctlcluster", PG_VERSION, self.name, "start")
        self.wait_ready()

    def stop(self, mode="fast"):
        self._run("pg_ctlcluster", PG_VERSION, self.name, "stop", "-m", mode)

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                ["pg_isready", "-h", HOST, "-p", str(self.port), "-q"], check=False
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL on port {self.port} did not come up")

    def url(self, dbname):
        return f"postgres://postgres@{HOST}:{self.port}/{dbname}"

    def create_database(self, dbname):
        import psycopg2

        conn = psycopg2.connect(host=HOST, port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{dbname}"')
        conn.close()

    def close(self):
        subprocess.run(
            ["pg_dropcluster", PG_VERSION, self.name, "--stop"], check=False, capture_output=True
        )


def port_in_use(port):
    import socket

    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


# --- the app -------------------------------------------------------------------------------------


def app_env(database_url, workdir, writing_seconds):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_EMAIL_BACKEND": "locmem",  # the web workers only queue mail
        "DJANGO_PAGE_CACHE_DIR": str(Path(workdir) / "page-cache"),
        "DJANGO_LOG_LEVEL": "ERROR",
        "BARNETBLOG_COMMENT_MIN_SECONDS": str(writing_seconds),
        "BARNETBLOG_COMMENT_FLOOD_SECONDS": "0",
        "BARNETBLOG_COMMENTS_PER_MINUTE": "1000000",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    for name in ("REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    return env


def manage(env, *args):
    out = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout


POSTS_OPEN = """
import json
from comments.models import comments_open
from posts.models import Post
print(json.dumps([p.get_absolute_url() for p in Post.objects.published() if comments_open(p)]))
"""


def prepare(env):
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo", "--domain", HOST)
    paths = json.loads(manage(env, "shell", "-c", POSTS_OPEN).strip().splitlines()[-1])
    if not paths:
        raise RuntimeError("the demo has no post open for comments")
    return paths


# --- a resident's comment ------------------------------------------------------------------------


class FormReader(html.parser.HTMLParser):
    """The comment form's action and its fields' values, from a post page."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self._in_form = None, {}, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "comment-form" in (attrs.get("class") or ""):
            self.action, self._in_form = attrs.get("action"), True
        elif (
            self._in_form
            and tag in ("input", "textarea")
            and attrs.get("name")
            and attrs.get("type") not in ("checkbox", "submit")
        ):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


def request(port, method, path, body=None, timeout=30, times=None):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Origin": f"http://{HOST}:{port}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        answer = response.status, response.getheader("Location") or "", response.read()
        if times is not None:
            times.append(time.perf_counter() - began)
        return answer
    finally:
        conn.close()


class Residents:
    """`clients` threads posting `count` comments over `paths`; those that get an error
    try the same comment again (fetching the form again), as a resident pressing again."""

    def __init__(
        self, port, paths, count, clients, tag, writing_seconds, retry_pause=0.25, max_tries=200
    ):
        self.port, self.paths, self.count, self.clients, self.tag = (
            port,
            paths,
            count,
            clients,
            tag,
        )
        self.writing_seconds = writing_seconds
        self.retry_pause, self.max_tries = retry_pause, max_tries
        self.lock = threading.Lock()
        self.acked = {}  # email -> Location of the success answer
        self.acked_at = []  # monotonic times of success answers
        self.errors = {}  # kind -> count
        self.error_times = []
        self.double_clicks = 0
        self.post_seconds = []  # each POST's time from sending to the answer's last byte
        self.double_click_mismatches = 0
        self.gave_up = []

    def email(self, n):
        return f"{self.tag}-{n}@example.net"

    def run(self, on_progress=None):
        self.on_progress = on_progress
        work = list(range(self.count))
        threads = [
            threading.Thread(target=self._client, args=(work[i :: self.clients],), daemon=True)
            for i in range(self.clients)
        ]
        self.started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.monotonic() - self.started
        return self

    def _error(self, kind, sent_at):
        """An error answer to a request sent at `sent_at` (when it was sent, not answered:
        one sent while the database was away can be answered after it is back)."""
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.error_times.append(sent_at)

    def _form(self, path):
        status, _, body = request(self.port, "GET", path)
        if status != 200:
            raise OSError(f"GET {status}")
        reader = FormReader()
        reader.feed(body.decode("utf-8", "replace"))
        if not reader.action or "timestamp" not in reader.fields:
            raise OSError("no comment form")
        return reader.action, reader.fields

    def _client(self, numbers):
        for n in numbers:
            path = self.paths[n % len(self.paths)]
            for _ in range(self.max_tries):
                sent = [time.monotonic()]  # when the form's GET, then its POST, was sent
                try:
                    if self._post_one(n, path, sent):
                        break
                except (OSError, http.client.HTTPException) as error:
                    self._error(
                        type(error).__name__ if "GET" not in str(error) else str(error), sent[0]
                    )
                time.sleep(self.retry_pause)
            else:
                self.gave_up.append(n)
            if self.on_progress:
                self.on_progress(self)

    def _post_one(self, n, path, sent):
        action, fields = self._form(path)
        wait = float(fields["timestamp"]) + self.writing_seconds + 0.05 - time.time()
        if wait > 0:
            time.sleep(wait)  # a resident takes at least this long to write
        fields.update(
            name=f"Resident {n}",
            email=self.email(n),
            url="",
            comment=f"Comment {n} of run {self.tag}: the library must stay open on Sundays.",
            honeypot="",
        )
        body = urllib.parse.urlencode(fields)
        sent[0] = time.monotonic()
        if n % 10 == 0:  # a double click: the same POST twice at once
            answers = [None, None]

            def send(i):
                try:
                    answers[i] = request(self.port, "POST", action, body, times=self.post_seconds)[
                        :2
                    ]
                except (OSError, http.client.HTTPException) as error:
                    answers[i] = (type(error).__name__, "")

            pair = [threading.Thread(target=send, args=(i,)) for i in (0, 1)]
            for thread in pair:
                thread.start()
            for thread in pair:
                thread.join()
            good = [a for a in answers if a[0] == 302 and "#comment-" in a[1]]
            for bad in (a for a in answers if a not in good):
                self._error(f"HTTP {bad[0]}", sent[0])
            if len(good) == 2:
                with self.lock:
                    self.double_clicks += 1
                    if good[0][1] != good[1][1]:
                        self.double_click_mismatches += 1
            if good:
                self._ack(n, good[0][1])
                return True
            return False
        status, location, _ = request(self.port, "POST", action, body, times=self.post_seconds)
        if status == 302 and "#comment-" in location:
            self._ack(n, location)
            return True
        self._error(f"HTTP {status}", sent[0])
        return False

    def _ack(self, n, location):
        with self.lock:
            self.acked[self.email(n)] = location
            self.acked_at.append(time.monotonic())


def stored(database_url, tag):
    """(comments stored for run `tag` by email, duplicated (post, email, text) groups)."""
    import psycopg2

    url = urllib.parse.urlsplit(database_url)
    for _ in range(100):
        try:
            conn = psycopg2.connect(
                host=url.hostname, port=url.port, user="postgres", dbname=url.path.lstrip("/")
            )
            break
        except psycopg2.OperationalError:
            time.sleep(0.1)
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT d.user_email, d.id FROM django_comments d "
            "JOIN comments_comment c ON c.xtdcomment_ptr_id = d.id WHERE d.user_email LIKE %s",
            [f"{tag}-%"],
        )
        rows = cur.fetchall()
        cur.execute(
            "SELECT count(*) FROM (SELECT 1 FROM django_comments WHERE user_email LIKE %s "
            "GROUP BY object_pk, lower(user_email), comment HAVING count(*) > 1) AS d",
            [f"{tag}-%"],
        )
        duplicates = cur.fetchone()[0]
    conn.close()
    by_email = {}
    for email, pk in rows:
        by_email.setdefault(email, []).append(pk)
    return by_email, duplicates


def queue_size(database_url):
    import psycopg2

    url = urllib.parse.urlsplit(database_url)
    conn = psycopg2.connect(
        host=url.hostname, port=url.port, user="postgres", dbname=url.path.lstrip("/")
    )
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM mailer_message")
        size = cur.fetchone()[0]
    conn.close()
    return size


def percentile_ms(seconds, p):
    ordered = sorted(seconds)
    if not ordered:
        return None
    return round(ordered[max(0, -(-p * len(ordered) // 100) - 1)] * 1000, 1)


def check_comments(result, residents, by_email, duplicates):
    acked_missing = [e for e in residents.acked if e not in by_email]
    stored_twice = [e for e, pks in by_email.items() if len(pks) > 1]
    result.update(
        comments_sent=residents.count,
        comments_acknowledged=len(residents.acked),
        comments_stored=len(by_email),
        acknowledged_but_not_stored=len(acked_missing),
        stored_twice=len(stored_twice) + duplicates,
        double_clicks_answered_alike=residents.double_clicks - residents.double_click_mismatches,
        double_clicks_answered_differently=residents.double_click_mismatches,
        error_answers=dict(sorted(residents.errors.items())),
        gave_up=len(residents.gave_up),
        seconds=round(residents.elapsed, 2),
        comments_per_second=round(residents.count / residents.elapsed, 1),
        post_p50_ms=percentile_ms(residents.post_seconds, 50),
        post_p99_ms=percentile_ms(residents.post_seconds, 99),
    )
    problems = []
    if acked_missing:
        problems.append(f"{len(acked_missing)} acknowledged comments are not stored")
    if result["stored_twice"]:
        problems.append(f"{result['stored_twice']} comments stored twice")
    if len(by_email) != residents.count:
        problems.append(f"{len(by_email)} stored of {residents.count} sent")
    if residents.double_click_mismatches:
        problems.append("double clicks landed on different comments")
    return problems


# --- scenarios -----------------------------------------------------------------------------------


def scenario_load(port, paths, database_url, args):
    """2: comments under load; no errors allowed."""
    residents = Residents(
        port, paths, args.comments, args.clients, "s2", args.writing_seconds
    ).run()
    result = {"scenario": 2}
    by_email, duplicates = stored(database_url, "s2")
    problems = check_comments(result, residents, by_email, duplicates)
    if residents.errors:
        problems.append(f"error answers: {residents.errors}")
    return result, problems


def scenario_restart(port, paths, database_url, pg, args):
    """3: the same load, with PostgreSQL stopped for `--outage` seconds a third of the way."""
    events = {}
    trigger = threading.Event()

    def progress(residents):
        if len(residents.acked) >= args.comments // 3:
            trigger.set()

    def restart():
        trigger.wait()
        events["stop"] = time.monotonic()
        pg.stop(args.stop_mode)
        events["stopped"] = time.monotonic()
        time.sleep(args.outage)
        # PostgreSQL accepts connections before `pg_ctlcluster start` returns (on a busy
        # machine, seconds before), so recovery is measured from the moment we start it.
        events["starting"] = time.monotonic()
        pg.start()
        events["up"] = time.monotonic()

    restarter = threading.Thread(target=restart, daemon=True)
    restarter.start()
    residents = Residents(port, paths, args.comments, args.clients, "s3", args.writing_seconds)
    residents.run(on_progress=progress)
    trigger.set()
    restarter.join(120)
    result = {"scenario": 3, "stop_mode": args.stop_mode, "outage_seconds": args.outage}
    by_email, duplicates = stored(database_url, "s3")
    problems = check_comments(result, residents, by_email, duplicates)
    if "up" in events:
        after = [t for t in residents.acked_at if t > events["starting"]]
        # Errors by when their request was sent: one sent while the database was away may be
        # answered (a 503) after another worker has already accepted a comment again.
        during = [t for t in residents.error_times if t >= events["stop"]]
        result.update(
            database_down_seconds=round(events["starting"] - events["stopped"], 2),
            pg_start_seconds=round(events["up"] - events["starting"], 2),
            errors_while_down_or_after=len(during),
            errors_after_recovery=len(
                [t for t in residents.error_times if after and t > min(after)]
            ),
            seconds_to_recover=round(min(after) - events["starting"], 2) if after else None,
        )
        if not after:
            problems.append("no comment was accepted after PostgreSQL came back")
    else:
        problems.append("PostgreSQL was never restarted")
    return result, problems


class Inbox:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope)
        return "250 OK"


def scenario_mail(database_url, env, args, workdir):
    """5: the queue's confirmations delivered through an SMTP server down, then up."""
    from aiosmtpd.controller import Controller

    queued = queue_size(database_url)
    smtp_port = free_port()
    worker_env = {
        **env,
        "DJANGO_EMAIL_BACKEND": "smtp",
        "DJANGO_EMAIL_HOST": HOST,
        "DJANGO_EMAIL_PORT": str(smtp_port),
        "DJANGO_MAIL_RETRY_SECONDS": "1",
        "DJANGO_MAIL_RETRY_MAX_SECONDS": "4",
    }
    log_path = Path(workdir) / "mail-worker.log"
    with open(log_path, "wb") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "mail_worker", "--poll", "0.5"],
            cwd=REPO,
            env=worker_env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    inbox = Inbox()
    controller = None
    result = {"scenario": 5, "emails_queued": queued, "mail_server_down_seconds": args.mail_down}
    try:
        time.sleep(args.mail_down)  # the worker tries, and defers
        result["queued_while_down"] = queue_size(database_url)
        controller = Controller(inbox, hostname=HOST, port=smtp_port)
        controller.start()
        up = time.monotonic()
        deadline = up + args.mail_timeout
        while queue_size(database_url) and time.monotonic() < deadline:
            time.sleep(0.2)
        result["seconds_to_deliver_after_up"] = round(time.monotonic() - up, 2)
        time.sleep(1)  # anything sent twice would arrive now
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        if controller is not None:
            controller.stop()
    ids = [
        m.original_content.split(b"Message-ID:", 1)[-1].split(b"\n", 1)[0] for m in inbox.messages
    ]
    result.update(
        emails_delivered=len(inbox.messages),
        emails_delivered_twice=len(ids) - len(set(ids)),
        emails_left_in_queue=queue_size(database_url),
    )
    problems = []
    if result["queued_while_down"] < queued:
        problems.append("email was delivered while the mail server was down?")
    if len(set(ids)) != queued or result["emails_left_in_queue"]:
        problems.append(f"{len(set(ids))} of {queued} emails delivered")
    if result["emails_delivered_twice"]:
        problems.append(f"{result['emails_delivered_twice']} emails delivered twice")
    return result, problems


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 comments, 20 clients, 3 s")
    parser.add_argument("--scenarios", default="2,3,5", help="which scenarios (2,3,5)")
    parser.add_argument("--comments", type=int, default=1000, help="comments per scenario")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--writing-seconds",
        type=float,
        default=1.0,
        help="the minimum writing time the server is given, which clients wait out (1)",
    )
    parser.add_argument("--outage", type=float, default=3.0, help="seconds PostgreSQL is down")
    parser.add_argument("--stop-mode", default="fast", choices=("smart", "fast", "immediate"))
    parser.add_argument("--mail-down", type=float, default=60.0, help="seconds without SMTP")
    parser.add_argument("--mail-timeout", type=float, default=180.0)
    parser.add_argument("--cluster", default="bbfault", help="private cluster's name")
    parser.add_argument("--port", type=int, default=5439, help="private cluster's port")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.comments, args.clients, args.outage, args.mail_down = 200, 20, 1.5, 3.0
        args.writing_seconds = 0.25
    args.scenarios = sorted({int(s) for s in args.scenarios.split(",") if s.strip()})
    if not set(args.scenarios) <= {2, 3, 5} or not args.scenarios:
        parser.error("--scenarios takes 2, 3 and 5")
    if args.scenarios == [5]:
        args.scenarios = [2, 5]  # the mail comes from the comments' confirmations
    if args.port == 5432:
        parser.error("the scenarios never use the shared cluster on 5432")
    return args


def main(argv=None):
    args = parse_args(argv)
    if port_in_use(args.port):
        log(f"Port {args.port} is in use: choose another with --port.")
        return 2
    workdir = tempfile.mkdtemp(prefix="bb-scenarios-")
    pg = PrivatePostgres(args.cluster, args.port)
    gunicorn = None
    results, problems = [], []
    try:
        log(f"Creating PostgreSQL cluster {args.cluster!r} on port {args.port}…")
        pg.create()
        database_url = pg.url("barnetblog_scenarios")
        pg.create_database("barnetblog_scenarios")
        env = app_env(database_url, workdir, args.writing_seconds)
        log("Migrating and loading the demo…")
        paths = prepare(env)
        port = free_port()
        log_path = Path(workdir) / "gunicorn.log"
        gunicorn = start_gunicorn(database_url, port, args.workers, log_path, extra_env=env)
        wait_until_serving(gunicorn, port, log_path)
        for number in args.scenarios:
            log(f"Scenario {number}…")
            if number == 2:
                result, found = scenario_load(port, paths, database_url, args)
            elif number == 3:
                result, found = scenario_restart(port, paths, database_url, pg, args)
            else:
                result, found = scenario_mail(database_url, env, args, workdir)
            result["problems"] = found
            results.append(result)
            problems += [f"scenario {number}: {p}" for p in found]
            print(json.dumps(result, indent=2), flush=True)
    finally:
        stop_gunicorn(gunicorn)
        pg.close()
        if not problems:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"Logs kept in {workdir}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    for problem in problems:
        log(f"FAILED {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
