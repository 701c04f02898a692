"""Benchmark of the WordPress import: a large generated export, its time and peak memory.

    .venv/bin/python bench/wordpress.py                     # 5,000 posts, 100,000 comments
    .venv/bin/python bench/wordpress.py --posts 50 --comments 1000   # a quick look

It writes the export to a temporary folder, migrates a fresh SQLite database there (or uses
DATABASE_URL's database, which must be empty and is left holding the import), imports the
file with `manage.py import_wordpress`, and prints the file size, the time and the peak
memory (the process's maximum resident set size, which includes Django itself), and the CPU
time the import spent in this process (on a shared machine, the wall time also counts waiting
for the processor and for the database).
"""

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PARAGRAPH = (
    "The council's budget for the coming year was set last night after a long debate. "
    "Residents asked about libraries, bins and the roads; the answers are below. "
)


def write_export(path, posts, comments, seed=2011):
    """A WXR 1.2 file with `posts` posts and `comments` threaded comments spread over them."""
    rng = random.Random(seed)
    per_post = [comments // posts + (1 if n < comments % posts else 0) for n in range(posts)]
    comment_id = 0
    with open(path, "w", encoding="utf-8") as out:
        w = out.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" ')
        w('xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" ')
        w('xmlns:content="http://purl.org/rss/1.0/modules/content/" ')
        w(
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">'
        )
        w("<channel><title>Benchmark</title><wp:wxr_version>1.2</wp:wxr_version>")
        w("<wp:base_site_url>http://bench.example/</wp:base_site_url>")
        w("<wp:author><wp:author_id>1</wp:author_id><wp:author_login>cllr</wp:author_login>")
        w("<wp:author_display_name>Cllr Bench</wp:author_display_name></wp:author>\n")
        for n in range(posts):
            day = f"20{10 + n % 14:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}"
            body = "\n\n".join(PARAGRAPH * (1 + rng.randrange(4)) for _ in range(4))
            w(f"<item><title>Post number {n}</title><dc:creator>cllr</dc:creator>")
            w(f"<link>http://bench.example/{day.replace('-', '/')}/post-{n}/</link>")
            w(f"<content:encoded><![CDATA[{body}<!--more-->{body}]]></content:encoded>")
            w(f"<wp:post_id>{n + 1}</wp:post_id><wp:post_date_gmt>{day} 09:00:00")
            w(f"</wp:post_date_gmt><wp:post_name>post-{n}</wp:post_name>")
            w("<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>")
            w('<category domain="category" nicename="news"><![CDATA[News]]></category>')
            first = comment_id + 1
            for _ in range(per_post[n]):
                comment_id += 1
                parent = (
                    rng.randrange(first, comment_id)
                    if comment_id > first and rng.random() < 0.6
                    else 0
                )
                status = rng.choices(["1", "0", "spam", "trash"], [90, 4, 4, 2])[0]
                w(f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>")
                w(f"<wp:comment_author><![CDATA[Resident {comment_id % 977}]]></wp:comment_author>")
                w(f"<wp:comment_author_email>r{comment_id % 977}@example.org")
                w("</wp:comment_author_email>")
                w(f"<wp:comment_date_gmt>{day} 18:{comment_id % 60:02d}:00</wp:comment_date_gmt>")
                w(f"<wp:comment_content><![CDATA[<p>{PARAGRAPH}</p><p>Comment {comment_id}.</p>]]>")
                w(f"</wp:comment_content><wp:comment_approved>{status}</wp:comment_approved>")
                w(f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>")
            w("</item>\n")
        w("</channel></rss>\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--comments", type=int, default=100_000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="barnetblog-wp-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    os.environ["DJANGO_MEDIA_ROOT"] = str(folder / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barnetblog.settings")
    sys.path.insert(0, str(ROOT))

    export = folder / "export.xml"
    started = time.perf_counter()
    write_export(export, args.posts, args.comments)
    print(
        f"Export: {args.posts:,} posts, {args.comments:,} comments, "
        f"{export.stat().st_size / 1e6:.1f} MB, written in {time.perf_counter() - started:.1f} s"
    )

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = time.process_time()
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("import_wordpress", str(export), stdout=quiet)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before  # this process only, not the database server's
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux

    from comments.models import Comment
    from posts.models import Post

    print(
        f"Import: {Post.objects.count():,} posts and {Comment.objects.count():,} comments "
        f"in {elapsed:.0f} s ({args.comments / elapsed:,.0f} comments/s) on "
        f"{django.db.connection.vendor}; peak memory {peak / 1024:.0f} MB "
        f"({before / 1024:.0f} MB before the import); {cpu:.0f} s of CPU in this process"
    )
    print(f"Files in {folder} (delete when done).")


if __name__ == "__main__":
    main()
