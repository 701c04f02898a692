"""Importing a WordPress export: what comes in, what is refused, and what is never written.

Real files: WordPress's importer test data and Isso's (../shared/wxr-upstream/, with
WordPress's own expectations from its phpunit/tests/import.php), the seed post as a
WordPress.com export (tests/wordpress_fixtures/seed-post.xml), and hostile files made here.
"""

import datetime
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.flatpages.models import FlatPage
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image as PILImage

from comments.models import Comment, ModerationEvent
from posts.models import Attachment, Author, Category, Image, Post, Tag
from tests.test_images import camera_photo
from wordpress.importer import ImportRefused, import_export
from wordpress.models import ImportedObject

pytestmark = pytest.mark.django_db

UPSTREAM = Path("/work/shared/wxr-upstream")
if not UPSTREAM.is_dir():
    UPSTREAM = Path(__file__).resolve().parents[2] / "shared" / "wxr-upstream"
SEED = Path(__file__).parent / "wordpress_fixtures" / "seed-post.xml"


def run(path, *args):
    out = io.StringIO()
    call_command("import_wordpress", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def uploads(tmp_path):
    """A copy of wp-content/uploads holding the seed post's photo (with GPS data)."""
    folder = tmp_path / "uploads"
    (folder / "2011" / "06").mkdir(parents=True)
    (folder / "2011" / "06" / "town-hall.jpg").write_bytes(camera_photo((1200, 800)))
    return folder


def media_files(settings):
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def export(items="", channel="", version="1.2", head=""):
    """A small WXR file around `items`."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{head}\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:wp="http://wordpress.org/export/{version}/" '
        f'xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/">'
        f"<channel><title>Test</title><wp:wxr_version>{version}</wp:wxr_version>"
        "<wp:base_site_url>http://old.example/</wp:base_site_url>"
        "<wp:author><wp:author_id>1</wp:author_id><wp:author_login>cllr</wp:author_login>"
        "<wp:author_email>cllr@example.org</wp:author_email>"
        "<wp:author_display_name>Cllr Smith</wp:author_display_name></wp:author>"
        f"{channel}{items}</channel></rss>"
    ).encode()


def item(wp_id, status="publish", body="Hello.", comments="", extra="", **fields):
    values = {
        "title": f"Post {wp_id}",
        "post_name": f"post-{wp_id}",
        "post_date": "2011-06-30 10:00:00",
        "post_date_gmt": "2011-06-30 09:00:00",
        "post_type": "post",
        "comment_status": "open",
        **fields,
    }
    return (
        f"<item><title>{values['title']}</title><dc:creator>cllr</dc:creator>"
        f"<link>http://old.example/2011/06/30/{values['post_name']}/</link>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded>"
        f"<wp:post_id>{wp_id}</wp:post_id><wp:post_date>{values['post_date']}</wp:post_date>"
        f"<wp:post_date_gmt>{values['post_date_gmt']}</wp:post_date_gmt>"
        f"<wp:post_name>{values['post_name']}</wp:post_name><wp:status>{status}</wp:status>"
        f"<wp:post_type>{values['post_type']}</wp:post_type>"
        f"<wp:comment_status>{values['comment_status']}</wp:comment_status>"
        f"{extra}{comments}</item>"
    )


def comment(wp_id, parent=0, approved="1", text="A comment.", meta="", **fields):
    values = {
        "author": f"Resident {wp_id}",
        "email": f"r{wp_id}@example.org",
        "url": "",
        "type": "",
        "date": "2011-07-01 10:00:00",
        **fields,
    }
    return (
        f"<wp:comment><wp:comment_id>{wp_id}</wp:comment_id>"
        f"<wp:comment_author><![CDATA[{values['author']}]]></wp:comment_author>"
        f"<wp:comment_author_email>{values['email']}</wp:comment_author_email>"
        f"<wp:comment_author_url>{values['url']}</wp:comment_author_url>"
        f"<wp:comment_author_IP>192.0.2.1</wp:comment_author_IP>"
        f"<wp:comment_date_gmt>{values['date']}</wp:comment_date_gmt>"
        f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>"
        f"<wp:comment_approved>{approved}</wp:comment_approved>"
        f"<wp:comment_type>{values['type']}</wp:comment_type>"
        f"<wp:comment_parent>{parent}</wp:comment_parent>{meta}</wp:comment>"
    )


def write(tmp_path, data, name="export.xml"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- The seed post, as WordPress.com exports it ------------------------------------------


def test_the_seed_post_comes_in_with_its_picture_and_its_two_threaded_responses(
    client, uploads, settings, mailoutbox
):
    report = run(SEED, "--media-dir", str(uploads))

    post = Post.objects.get()
    assert post.title == "Back office and customer service project given the green light"
    assert post.body_format == Post.BodyFormat.HTML
    assert post.is_published()
    assert post.published_at == datetime.datetime(2011, 6, 30, 9, 0, tzinfo=datetime.UTC)
    assert post.excerpt.startswith("Last night (29 June), the business case")
    assert "<!--more-->" not in post.body_html and "[caption" not in post.body_html
    assert "<figcaption>The town hall</figcaption>" in post.body_html
    assert "files.wordpress.com" not in post.body_html
    assert post.categories.get().slug == "council-services"
    assert post.tags.get().name == "One Barnet"
    assert post.image is not None and post.image_alt == "Barnet town hall"
    assert post.image.default_url in post.body_html
    # Re-encoded through posts/images.py: no EXIF, no GPS.
    with PILImage.open(post.image.file.path) as stored:
        assert not stored.getexif()

    mrs_angry, reply = Comment.objects.for_post(post).order_by("submit_date")
    assert mrs_angry.user_name == "Mrs Angry, Broken Barnet blog" and mrs_angry.is_visible
    assert mrs_angry.user_url == "http://brokenbarnet.example/"
    assert reply.parent_id == mrs_angry.pk and reply.level == 1
    assert reply.user == post.author.user  # the councillor's own reply links to his account
    assert len(reply.comment) > 1200 and reply.comment.count("\n\n") == 2  # never truncated
    assert not mrs_angry.followup and mrs_angry.confirmed
    assert ModerationEvent.objects.filter(comment=mrs_angry, action="approved").exists()
    assert mailoutbox == []

    user = post.author.user
    assert not user.has_usable_password() and not user.is_staff
    assert post.author.slug != user.username
    assert "Posts: 1 published" in report and "Comments: 2 approved" in report

    page = client.get(post.get_absolute_url())
    assert page.status_code == 200
    assert "Mrs Angry, Broken Barnet blog" in page.content.decode()


def test_the_post_page_of_an_imported_post_issues_the_usual_number_of_queries(
    client, uploads, django_assert_num_queries
):
    from tests.test_queries import EXPECTED

    run(SEED, "--media-dir", str(uploads))
    url = Post.objects.get().get_absolute_url()
    client.get(url)  # warm the site and content-type caches, as test_queries does
    with django_assert_num_queries(EXPECTED["detail"]):
        assert client.get(url).status_code == 200


def test_importing_twice_changes_nothing_and_stores_no_second_copy_of_a_file(uploads, settings):
    run(SEED, "--media-dir", str(uploads))
    files = media_files(settings)
    counts = [m.objects.count() for m in (Post, Comment, Image, Author, ImportedObject)]

    report = run(SEED, "--media-dir", str(uploads))

    assert [m.objects.count() for m in (Post, Comment, Image, Author, ImportedObject)] == counts
    assert media_files(settings) == files
    assert "Posts: 1 already imported" in report and "Comments: 2 already imported" in report


def test_a_dry_run_prints_the_same_report_and_writes_nothing(uploads, settings):
    dry = run(SEED, "--media-dir", str(uploads), "--dry-run")

    assert Post.objects.count() == Comment.objects.count() == Image.objects.count() == 0
    assert ImportedObject.objects.count() == 0
    assert media_files(settings) == []
    real = run(SEED, "--media-dir", str(uploads))
    assert dry.splitlines()[1:] == real.splitlines()[1:]
    assert "dry run, nothing was written" in dry.splitlines()[0]


# --- WordPress's own test files, with WordPress's expectations -----------------------------


def test_small_export_imports_as_wordpress_expects():
    report = run(UPSTREAM / "small-export.xml")

    assert set(get_user_model().objects.values_list("username", flat=True)) >= {
        "admin",
        "editor",
        "author",
    }
    editor = get_user_model().objects.get(username="editor")
    assert (editor.email, editor.first_name, editor.last_name) == (
        "editor@example.org",
        "FirstName",
        "LastName",
    )
    assert Category.objects.filter(posts__isnull=False).distinct().count() <= 30
    assert ImportedObject.objects.filter(kind="category").count() == 30
    assert Tag.objects.count() == 3
    assert Post.objects.published().count() == 5  # WordPress: 5 published
    private = Post.objects.get(slug="private-post")  # WordPress: 1 private, here a draft
    assert private.status == Post.Status.DRAFT
    assert sorted(private.tags.values_list("slug", flat=True)) == ["tag1", "tag2", "tag3"]
    assert Post.objects.get(slug="many-categories").categories.count() == 27
    assert Post.objects.get(slug="foo-child").categories.get().slug == "foo-bar"
    assert Post.objects.get(slug="hello-world").author.user.username == "author"
    assert Comment.objects.count() == 1
    # Pages: 4 published (the child under its parent's path), the draft page reported.
    assert FlatPage.objects.filter(url="/parent-page/child-page/").exists()
    assert "Pages: 4 published, 1 skipped (not published)" in report
    assert "'Foo' is taken; named 'Foo (bar)'" in report
    assert "flattened" in report


@pytest.mark.parametrize("name", ["valid-wxr-1.0.xml", "valid-wxr-1.1.xml"])
def test_older_wxr_versions_are_read(name):
    run(UPSTREAM / name)
    assert Post.objects.exists()


def test_wxr_1_0_terms_use_the_tag_domain():
    run(UPSTREAM / "valid-wxr-1.0.xml")
    tagged = Post.objects.filter(tags__slug="news").get()
    assert set(tagged.tags.values_list("slug", flat=True)) == {"news", "roar"}


def test_the_theme_unit_test_data_imports_with_its_deep_thread_capped_at_our_depth(settings):
    report = run(UPSTREAM / "theme-unit-test-data.xml")

    deepest = Comment.objects.order_by("-level").first()
    assert deepest.level == settings.COMMENTS_XTD_MAX_THREAD_LEVEL
    assert "deeper than our threads" in report
    assert "nav_menu_item items" in report  # menus are ignored, with a count
    assert "pingback" in report
    for post in Post.objects.all():
        assert "[gallery" not in post.body_html and "[caption" not in post.body_html
        assert "<!-- wp:" not in post.body_html and "<script" not in post.body_html
        assert "<iframe" not in post.body_html


def test_bodies_split_over_cdata_sections_are_read_whole():
    """WordPress's parser test: `]]>` escaped as `]]]]><![CDATA[>` is read back as `]]>`."""
    from wordpress import parser

    with (UPSTREAM / "crazy-cdata-escaped.xml").open("rb") as stream:
        items = [fields for kind, fields in parser.read(stream) if kind == "item"]
    assert items[0]["content:encoded"] == "Content with nested <![CDATA[ tags ]]> :)"
    assert items[0]["postmeta"]["Closing CDATA"] == "]]>"


def test_slashes_are_content():
    run(UPSTREAM / "slashes.xml")
    post = Post.objects.get()
    assert (
        post.body_text == r"""Slashes aren\'t \"cool\""""
    )  # WordPress: 'Slashes aren\\\'t \"cool\"'
    assert Comment.objects.get().comment == "\\o/ ¯\\_(ツ)_/¯"
    assert Category.objects.get(slug="alpha").name == 'a \\"great\\" category'
    assert Tag.objects.get(slug="tag1").name == "foo\\'bar"


def test_emoji_and_right_to_left_text_survive():
    run(UPSTREAM / "wxr-utf-8-challenges.xml")
    post = Post.objects.get()
    assert "🚀" in post.title or "🚀" in post.body_text
    assert post.get_absolute_url()  # an address that resolves, whatever the slug held


def test_isso_export_without_a_version_is_read_with_its_threads():
    report = run(UPSTREAM / "isso-wordpress.xml")
    assert "read as WXR 1.0" in report
    replies = Comment.objects.exclude(parent_id=models_f("pk"))
    assert replies.exists()


def models_f(name):
    from django.db.models import F

    return F(name)


# --- Refused, with nothing written ----------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel>&lol2;</channel></rss>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>&xxe;</title>'
    b"</channel></rss>"
)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "Refused"),
        (EXTERNAL_ENTITY, "Refused"),
        (export(item(1), head='<!DOCTYPE rss SYSTEM "http://evil.example/x.dtd">'), "Refused"),
        (export(item(1) + item(2))[:-40], "ends too early"),
        (export(item(1, body="caf\xe9")).replace("café".encode(), b"caf\xe9"), "encoding"),
        (b"<html><body>Not an export</body></html>", "not a WordPress export"),
        ((UPSTREAM / "malformed.xml").read_bytes(), "not well-formed"),
        ((UPSTREAM / "invalid-version-tag.xml").read_bytes(), "invalid WXR version"),
    ],
    ids=["entities", "external", "dtd", "truncated", "mis-encoded", "html", "malformed", "version"],
)
def test_hostile_or_broken_files_are_refused_with_one_line_and_nothing_written(
    tmp_path, uploads, settings, data, reason
):
    path = write(tmp_path, data)
    with pytest.raises(CommandError) as refused:
        run(path, "--media-dir", str(uploads))
    message = str(refused.value)
    assert "\n" not in message and reason in message
    assert Post.objects.count() == Author.objects.count() == ImportedObject.objects.count() == 0
    assert media_files(settings) == []


def test_files_written_before_a_failure_are_removed(tmp_path, uploads, settings):
    picture = '<img src="http://old.example/wp-content/uploads/2011/06/town-hall.jpg">'
    data = export(item(1, body=picture) + item(2))[:-30]  # cut short after the picture
    with pytest.raises(ImportRefused), write(tmp_path, data).open("rb") as stream:
        import_export(stream, media_dir=uploads)
    assert media_files(settings) == []
    assert Image.objects.count() == 0


def test_an_author_map_to_a_missing_account_refuses_the_whole_import(tmp_path):
    with pytest.raises(CommandError, match="no account named 'nobody'"):
        run(write(tmp_path, export(item(1))), "--author-map", "cllr=nobody")
    assert Post.objects.count() == 0


def test_an_author_map_posts_as_the_existing_account(tmp_path, author_user):
    run(write(tmp_path, export(item(1))), "--author-map", f"cllr={author_user.username}")
    assert Post.objects.get().author.user == author_user
    assert get_user_model().objects.count() == 1


def test_media_paths_that_climb_out_of_the_media_folder_are_refused(tmp_path, uploads):
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(camera_photo((50, 50)))
    body = '<img src="http://old.example/wp-content/uploads/../secret.jpg" alt="x">'
    report = run(write(tmp_path, export(item(1, body=body))), "--media-dir", str(uploads))
    assert "outside the media folder" in report
    assert Image.objects.count() == 0


def test_missing_media_files_are_named_in_the_report(tmp_path, uploads):
    body = '<img src="http://old.example/wp-content/uploads/2011/06/gone.jpg" alt="x">'
    report = run(write(tmp_path, export(item(1, body=body))), "--media-dir", str(uploads))
    assert "2011/06/gone.jpg" in report


def test_documents_become_attachments_of_their_post(tmp_path, uploads):
    (uploads / "2011" / "06" / "minutes.pdf").write_bytes(b"%PDF-1.4 minutes")
    document = (
        "<item><title>Minutes</title><wp:post_id>9</wp:post_id><wp:status>inherit</wp:status>"
        "<wp:post_parent>1</wp:post_parent><wp:post_type>attachment</wp:post_type>"
        "<wp:attachment_url>http://old.example/wp-content/uploads/2011/06/minutes.pdf"
        "</wp:attachment_url></item>"
    )
    run(write(tmp_path, export(document + item(1))), "--media-dir", str(uploads))
    attachment = Attachment.objects.get()
    assert attachment.post == Post.objects.get() and attachment.kind == "PDF"


# --- Posts: states, dates, options -------------------------------------------------------


def test_post_states_map_to_ours(tmp_path):
    future = (timezone.now() + datetime.timedelta(days=30)).date().isoformat()
    items = (
        item(1)
        + item(2, status="draft", post_date_gmt="0000-00-00 00:00:00")
        + item(3, status="future", post_date_gmt=f"{future} 09:00:00")
        + item(4, status="private")
        + item(5, status="pending")
        + item(6, extra="<wp:post_password>secret</wp:post_password>")
        + item(7, comment_status="closed", extra="<wp:is_sticky>1</wp:is_sticky>")
        + item(8, post_type="nav_menu_item")
    )
    report = run(write(tmp_path, export(items)))
    by_id = {int(row.wp_id): row.target for row in ImportedObject.objects.filter(kind="post")}
    assert by_id[1].is_published()
    assert by_id[2].status == Post.Status.DRAFT
    assert by_id[3].is_scheduled
    assert {by_id[n].status for n in (4, 5, 6)} == {Post.Status.DRAFT}
    assert by_id[7].sticky and not by_id[7].comments_enabled
    assert 8 not in by_id and "1 nav_menu_item items" in report
    assert "password-protected" in report


def test_a_date_without_gmt_is_read_in_the_blogs_time_zone(tmp_path):
    run(write(tmp_path, export(item(1, post_date_gmt=""))), "--time-zone", "America/Los_Angeles")
    assert Post.objects.get().published_at == datetime.datetime(
        2011, 6, 30, 17, 0, tzinfo=datetime.UTC
    )


def test_a_slug_taken_on_the_same_day_is_renamed_and_reported(tmp_path):
    report = run(write(tmp_path, export(item(1) + item(2, post_name="post-1"))))
    assert sorted(Post.objects.values_list("slug", flat=True)) == ["post-1", "post-1-2"]
    assert "post 2: its address ends …/post-1-2/" in report


def test_a_page_whose_address_is_taken_is_renamed_predictably(tmp_path):
    page = item(20, post_type="page", post_name="about", title="About me")
    report = run(write(tmp_path, export(page)))
    assert FlatPage.objects.get(title="About me").url == "/about-2/"
    assert "/about/ is taken here; the page is at /about-2/" in report


# --- Content: what WordPress shows, safely -----------------------------------------------


def test_wordpress_content_is_converted_and_sanitised(tmp_path):
    body = (
        '<!-- wp:paragraph --><p onclick="steal()">First</p><!-- /wp:paragraph -->\n\n'
        "<script>alert(1)</script>\n"
        '<img src="https://tracker.example/pixel.gif" alt="Tracker">\n\n'
        '<iframe src="https://www.youtube.com/embed/abc"></iframe>\n\n'
        "https://twitter.com/someone/status/1\n\n"
        '[gallery ids="5,6"]\n\n[contact-form][/contact-form]\n'
        "Second line\nthird line<!--nextpage-->Page two"
    )
    run(write(tmp_path, export(item(1, body=body))))
    html = Post.objects.get().body_html
    for absent in ("<script", "onclick", "alert(1)", "<img", "<iframe", "[gallery", "[contact",
                   "<!--", "nextpage"):  # fmt: skip
        assert absent not in html
    assert '<a href="https://www.youtube.com/embed/abc">' in html
    assert '<a href="https://twitter.com/someone/status/1">' in html
    assert '<a href="https://tracker.example/pixel.gif">Tracker</a>' in html
    assert "<p>Second line<br>\nthird line</p>" in html and "Page two" in html


# --- Comments ---------------------------------------------------------------------------


def test_comment_states_dates_and_details(tmp_path, mailoutbox):
    trash_meta = (
        "<wp:commentmeta><wp:meta_key>_wp_trash_meta_status</wp:meta_key>"
        "<wp:meta_value>1</wp:meta_value></wp:commentmeta>"
        "<wp:commentmeta><wp:meta_key>_wp_trash_meta_time</wp:meta_key>"
        "<wp:meta_value>1309600000</wp:meta_value></wp:commentmeta>"
    )
    comments = (
        comment(
            1,
            text="<p>Hello <a href='https://council.example/'>the report</a></p>"
            "<p>Line<br/>break &amp; more</p>",
            url="javascript:alert(1)",
        )  # fmt: skip
        + comment(2, approved="0")
        + comment(3, approved="spam")
        + comment(4, approved="trash", meta=trash_meta)
        + comment(5, type="pingback")
        + comment(6, author="N" * 80, email="not an email", url="https://ok.example/")
        + comment(7, text="x" * 5000)
    )
    report = run(write(tmp_path, export(item(1, comments=comments))))
    by_id = {
        row.wp_id.split(":")[1]: row.target for row in ImportedObject.objects.filter(kind="comment")
    }
    assert by_id["1"].comment == "Hello the report (https://council.example/)\n\nLine\nbreak & more"
    assert by_id["1"].user_url == ""  # only http and https are kept
    assert by_id["1"].queue == "approved"
    assert by_id["2"].queue == "pending"
    assert by_id["3"].queue == "spam"
    assert by_id["4"].queue == "removed" and by_id["4"].is_public
    assert by_id["4"].moderated_at == datetime.datetime.fromtimestamp(1309600000, tz=datetime.UTC)
    assert "5" not in by_id and "1 skipped (pingback)" in report
    assert len(by_id["6"].user_name) == 50 and by_id["6"].user_email == ""
    assert by_id["6"].user_url == "https://ok.example/"
    assert len(by_id["7"].comment) == 5000
    assert by_id["1"].ip_address is None  # older than the retention period
    actions = set(ModerationEvent.objects.values_list("action", flat=True))
    assert actions == {"approved", "held", "spam", "removed"}
    assert mailoutbox == []


def test_replies_find_their_parents_whatever_the_order_and_bad_parents_go_top_level(tmp_path):
    comments = (
        comment(12, parent=11)  # before its parent in the file
        + comment(11)
        + comment(13, parent=999)  # a parent that is not there (or on another post)
        + comment(14, parent=15)  # a loop
        + comment(15, parent=14)
    )
    report = run(write(tmp_path, export(item(1, comments=comments))))
    by_id = {
        row.wp_id.split(":")[1]: row.target for row in ImportedObject.objects.filter(kind="comment")
    }
    assert by_id["12"].parent_id == by_id["11"].pk
    assert by_id["13"].parent_id == by_id["13"].pk  # top level
    assert "comment 1:13: its parent 1:999 is not on this post" in report
    assert "loop" in report
    assert {by_id["14"].level, by_id["15"].level} == {0, 1}


def test_a_reply_added_since_the_first_import_joins_its_thread_on_the_next(tmp_path):
    first = export(item(1, comments=comment(1) + comment(2, parent=1) + comment(3)))
    run(write(tmp_path, first))
    again = export(
        item(1, comments=comment(1) + comment(2, parent=1) + comment(3) + comment(4, parent=2))
    )
    report = run(write(tmp_path, again))
    assert "Comments: 3 already imported, 1 approved" in report
    thread = [
        row.wp_id for row in ImportedObject.objects.filter(kind="comment").order_by("object_id")
    ]
    by_id = {
        row.wp_id.split(":")[1]: row.target for row in ImportedObject.objects.filter(kind="comment")
    }
    assert len(thread) == 4
    assert by_id["4"].parent_id == by_id["2"].pk and by_id["4"].level == 2
    ordered = Comment.objects.filter(thread_id=by_id["1"].pk).order_by("order")
    assert [c.pk for c in ordered] == [by_id[n].pk for n in ("1", "2", "4")]
    assert Comment.objects.get(pk=by_id["1"].pk).nested_count == 2


def test_a_post_deleted_here_since_is_imported_again(tmp_path):
    path = write(tmp_path, export(item(1, comments=comment(1))))
    run(path)
    Post.objects.get().delete()
    assert "Posts: 1 published" in run(path)
    post = Post.objects.get()
    assert Comment.objects.for_post(post).count() == 1


def test_comments_are_saved_in_batches_not_one_by_one(tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n):
        comments = "".join(comment(i, parent=i - 1 if i % 3 else 0) for i in range(1, n + 1))
        path = write(tmp_path, export(item(n, comments=comments)), name=f"{n}.xml")
        with CaptureQueriesContext(connection) as captured:
            run(path)
        return len(captured)

    few, many = queries(5), queries(300)
    assert Comment.objects.count() == 305
    # Five tables, in batches (SQLite's are the smallest): nothing per comment.
    assert many <= few + 5 * 6


def test_after_an_import_the_cached_pages_and_the_search_show_it(
    tmp_path, client, page_cache, django_capture_on_commit_callbacks
):
    client.get("/")  # cached, without the post
    with django_capture_on_commit_callbacks(execute=True):
        run(write(tmp_path, export(item(1, body="<p>Allotment waiting lists</p>"))))
    assert "Post 1" in client.get("/").content.decode()
    results = client.get("/search/", {"q": "allotment"}).content.decode()
    assert "Post 1" in results


def test_the_benchmarks_export_imports_whole_with_its_threads(tmp_path):
    """bench/wordpress.py at a size CI can afford: every post and comment, threads intact."""
    from bench.wordpress import write_export

    path = tmp_path / "bench.xml"
    write_export(path, posts=20, comments=600)
    report = run(path)
    assert Post.objects.count() == 20 and Comment.objects.count() == 600
    assert "Posts: 20 published" in report
    by_pk = {c.pk: c for c in Comment.objects.all()}
    for c in by_pk.values():
        parent, root = by_pk[c.parent_id], by_pk[c.thread_id]
        assert parent.object_pk == root.object_pk == c.object_pk
        assert c.level == (0 if parent.pk == c.pk else parent.level + 1)
        assert c.nested_count == sum(
            1 for d in by_pk.values() if d.thread_id == c.thread_id and _descends(d, c, by_pk)
        )
    threads = {}
    for c in sorted(by_pk.values(), key=lambda c: (c.thread_id, c.order)):
        threads.setdefault(c.thread_id, []).append(c.order)
    assert all(orders == list(range(1, len(orders) + 1)) for orders in threads.values())
    assert ModerationEvent.objects.count() == 600


def _descends(comment, ancestor, by_pk):
    while comment.parent_id != comment.pk:
        comment = by_pk[comment.parent_id]
        if comment.pk == ancestor.pk:
            return True
    return False


# --- Columns --------------------------------------------------------------------------------


def test_every_imported_value_fits_its_column(tmp_path):
    """On PostgreSQL a value longer than its column is an error: this import must not hit one."""
    long = "Long" * 120
    items = item(
        1,
        title=long,
        post_name="s" * 400,
        comments=comment(1, author=long, url="https://x.example/" + "a" * 300),
    ) + item(2, post_type="page", title=long, post_name="p" * 300)
    channel = (
        f"<wp:category><wp:term_id>5</wp:term_id><wp:category_nicename>{'c' * 300}"
        f"</wp:category_nicename><wp:cat_name>{long}</wp:cat_name></wp:category>"
        f"<wp:author><wp:author_login>{'l' * 200}</wp:author_login>"
        f"<wp:author_display_name>{long}</wp:author_display_name></wp:author>"
    )
    run(write(tmp_path, export(items, channel=channel)))
    post = Post.objects.get()
    assert len(post.title) <= 200 and len(post.slug) <= 200
    assert len(Comment.objects.get().user_name) <= 50
    assert len(Category.objects.get().name) <= 100
    assert len(FlatPage.objects.get(title__startswith="Long").url) <= 100
    assert client_can_read(post)


def client_can_read(post):
    from django.test import Client

    return Client().get(post.get_absolute_url()).status_code == 200


def test_the_progress_bar_counts_the_file_read_and_stays_off_the_report(tmp_path):
    from django.core.management.base import OutputWrapper

    from wordpress.management.commands.import_wordpress import _Progress

    path = write(tmp_path, export(item(1) + item(2)))
    shown = io.StringIO()
    with path.open("rb") as stream:
        progress = _Progress(stream, OutputWrapper(shown))
        import_export(stream, progress=progress)
    assert "Importing [" in shown.getvalue() and shown.getvalue().rstrip().endswith("100%")
    assert "Importing" not in run(path)  # not a terminal: the report alone
