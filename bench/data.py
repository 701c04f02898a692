"""The benchmark's database and data: what the pages under test are made of.

- (Re)creates the PostgreSQL database (its name must contain "bench": it is dropped), or keeps
  an earlier run's with `--keep-db` when it still holds the bench data;
- sets Django up in this process on that database, as production runs (`DJANGO_DEBUG=false`);
- fills it through the project's own code: the categories and tags by `posts.demo.category()`
  and `posts.demo.tag()`, 30 posts by `Post.save()` (rendered Markdown, search index) over about
  five years, and the 0/50/500 public comments (and 0 to 8 on each other post) by
  `comments.demo.add_comment()`, i.e. `Comment.objects.build_for()` then `Comment.save()`, so
  django-comments-xtd threads them as the site itself would;
- checks every reply sits one level under its parent, in its parent's thread, then runs
  `VACUUM ANALYZE` as autovacuum soon would.

Also the constants the other bench modules share (the repository, the host, the secret key,
the comment counts) and `log()`. Nothing here imports Django at import time: `setup_django()`
must run first.
"""

import datetime
import os
import random
import sys
import time
import urllib.parse
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/barnetblog_bench"
SECRET_KEY = "barnetblog-bench-key-not-secret-not-for-production-0123456789"
HOST = "127.0.0.1"
COMMENT_COUNTS = (0, 50, 500)
POSTS = 30  # published posts in all, the three discussion posts included
# The other posts' comments: each has 0 to this many, as most posts of a real blog have a few
# (with only three posts commented, PostgreSQL's generic plans expected hundreds of comments
# on every post, and scanned whole tables for a post with none).
FEW_COMMENTS = 8
# The other posts are published this many days apart, so the sidebar lists about five years
# of months, as a blog imported from WordPress does (not the two of a month's posts).
DAYS_APART = 61
# Which data an earlier run left (`--keep-db`): bumped whenever `fill_database()` changes.
SITE_NAME = "Barnet Blog bench, data 2"
SEED = 2011


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- the database ------------------------------------------------------------------------------


def server_params(database_url, dbname):
    """psycopg2.connect() arguments for database `dbname` on the server of `database_url`."""
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

    conn = psycopg2.connect(**server_params(database_url, "postgres"))
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
    conn = psycopg2.connect(**server_params(database_url, "postgres"))
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
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    # WhiteNoise notes that collectstatic has not run; the benchmark fetches HTML only.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()


def prepare_database(args):
    """{comment count: post} on a database holding the bench data, checked and analysed."""
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
        from comments.models import Comment

        log(
            f"Filled it in {time.perf_counter() - started:.1f} s: {POSTS} posts, "
            f"{Comment.objects.count()} comments saved through the model."
        )
    check_threads(posts)
    connections.close_all()
    return posts


def bench_posts():
    """{comment count: post} from a filled bench database, or None when it is not one."""
    from django.contrib.sites.models import Site
    from django.db.utils import DatabaseError

    from comments.models import Comment
    from posts.models import Post

    try:
        if not Site.objects.filter(pk=1, name=SITE_NAME).exists():
            return None
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

CATEGORIES = ("Council services", "Budget", "Planning", "Libraries", "Transport")
TAGS = (
    "one barnet", "consultation", "cabinet", "outsourcing",
    "scrutiny", "parking", "finance", "residents",
)  # fmt: skip


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
    """An author, categories, tags, 30 posts over about five years, the 0/50/500-comment
    discussions, and a few comments on each other post."""
    from django.contrib.auth import get_user_model
    from django.contrib.sites.models import Site
    from django.db import transaction
    from django.utils import timezone

    from comments.models import PostLike
    from posts import demo as posts_demo
    from posts.models import Author, Post

    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        Site.objects.update_or_create(pk=1, defaults={"domain": HOST, "name": SITE_NAME})
        # Not posts.demo.load(): that also makes the demo's own posts, images and accounts.
        user = get_user_model().objects.create_user(
            "bench-councillor", "councillor@example.org", "bench-password-not-used", is_staff=True
        )
        author = Author.objects.create(user=user, display_name="Robert Rams", slug="robert-rams")
        categories = [posts_demo.category(name) for name in CATEGORIES]
        tags = [posts_demo.tag(name) for name in TAGS]
        posts, others = {}, []
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
                published_at=now
                - datetime.timedelta(days=published_days_ago(n), hours=rng.randint(0, 8)),
            )
            post.save()
            post.categories.set(rng.sample(categories, rng.randint(1, 2)))
            post.tags.set(rng.sample(tags, rng.randint(2, 4)))
            if count is not None:
                posts[count] = post
            else:
                others.append(post)
        for post in others:
            add_comments(post, rng.randint(0, FEW_COMMENTS), user, author, rng)
        for count, post in posts.items():
            add_comments(post, count, user, author, rng)
            PostLike.objects.bulk_create(
                PostLike(post=post, visitor=f"bench-visitor-{i}") for i in range(count // 10)
            )
    return posts


def published_days_ago(n):
    """The nth post's age: the discussion posts the newest, a day apart; the rest further
    back, `DAYS_APART` days apart."""
    if n < len(COMMENT_COUNTS):
        return n + 1
    return len(COMMENT_COUNTS) + (n - len(COMMENT_COUNTS) + 1) * DAYS_APART


def add_comments(post, count, user, author, rng):
    """`count` public comments, each built by `Comment.objects.build_for()` and saved through
    the model (`comments.demo.add_comment()`), so threading is django-comments-xtd's own.

    The first five form a chain to the deepest level; after that about a third start a new
    thread and the rest reply to a recent comment (which keeps threads several levels deep).
    Every seventh reply is the post's author, for the "Author" badge.
    """
    from django.conf import settings

    from comments.demo import add_comment

    max_level = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    start = post.published_at + datetime.timedelta(hours=1)
    saved = []  # every comment so far
    for i in range(count):
        if i == 0 or (i > max_level and rng.random() < 0.33):
            parent = None
        elif i <= max_level:
            parent = saved[-1]
        else:
            # Below the deepest level only, so a reply attaches to the comment chosen.
            recent = [c for c in saved[-12:] if c.level < max_level] or [saved[0]]
            parent = rng.choice(recent)
        by_author = parent is not None and i % 7 == 0
        name = rng.choice(NAMES)
        comment = add_comment(
            post,
            parent,
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
        )
        saved.append(comment)


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
