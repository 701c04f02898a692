"""The blog goes out as WXR 1.2, and comes back in the same: the round trip."""

import io

import pytest
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.core.management import call_command

from comments.models import Comment, HouseRule
from core.sanitiser import render_markdown
from posts.models import Author, Category, Image, Post, Tag
from tests.factories import CommentFactory, PostFactory
from wordpress import parser
from wordpress.models import ImportedObject

pytestmark = pytest.mark.django_db


def snapshot():
    posts = {
        post.slug: (
            post.title,
            post.status,
            post.published_at and post.published_at.replace(microsecond=0),  # WXR: seconds
            post.body_html,
            post.sticky,
            post.comments_enabled,
            post.excerpt,
            sorted(post.categories.values_list("slug", flat=True)),
            sorted(post.tags.values_list("slug", flat=True)),
        )
        for post in Post.objects.all()
    }
    comments = set()
    for comment in Comment.objects.all():
        parent = Comment.objects.get(pk=comment.parent_id)
        post = Post.objects.get(pk=comment.object_pk)
        comments.add(
            (
                post.slug,
                comment.user_name,
                comment.user_email,
                comment.comment,
                comment.submit_date.replace(microsecond=0),
                comment.queue,
                comment.level,
                parent.comment if parent.pk != comment.pk else None,
            )
        )
    pages = {
        page.url: (page.title, render_markdown(page.content), page.registration_required)
        for page in FlatPage.objects.all()
    }
    return posts, comments, pages


def test_export_then_import_into_an_empty_database_gives_the_same_posts_pages_and_comments(
    tmp_path,
):
    post = PostFactory(title="Budget", body="# Plan\n\nSome *Markdown* & more.", sticky=True)
    PostFactory(draft=True, title="Unfinished")
    PostFactory(scheduled=True, title="Later")
    top = CommentFactory(post=post, comment="First <b>not bold</b>\n\nSecond para")
    reply = CommentFactory(post=post, parent=top, comment="A reply")
    CommentFactory(post=post, parent=reply, pending=True, comment="Held")
    CommentFactory(post=post, spam=True, comment="Buy pills")
    CommentFactory(post=post, removed=True, comment="Rude")
    shipped = set(FlatPage.objects.values_list("pk", flat=True))  # the footer pages
    site = Site.objects.get_current()
    for url, title, content, private in [
        ("/ward/", "The ward", "## Streets\n\nFrom *Church End* to [the park](/park/).", False),
        ("/ward/surgeries/", "Surgeries", "Every **first Saturday**.", False),
        ("/members/", "Members", "For the committee only.", True),
    ]:
        page = FlatPage.objects.create(
            url=url, title=title, content=content, registration_required=private
        )
        page.sites.add(site)
    before = snapshot()
    assert len(before[2]) == len(shipped) + 3

    output = tmp_path / "out.xml"
    call_command("export_wordpress", str(output), stderr=io.StringIO())
    with output.open("rb") as stream:
        assert sum(1 for kind, _ in parser.read(stream) if kind == "item") >= 3

    Comment.objects.all().delete()
    Post.objects.all().delete()
    Author.objects.all().delete()
    Category.objects.all().delete()
    Tag.objects.all().delete()
    FlatPage.objects.exclude(pk__in=shipped).delete()  # an empty database has the footer pages
    report = io.StringIO()
    call_command("import_wordpress", str(output), stdout=report)

    assert snapshot() == before
    assert f"Pages: 1 private, 2 published, {len(shipped)} the same page already here" in (
        report.getvalue()
    )
    assert FlatPage.objects.count() == len(shipped) + 3


def test_the_export_is_wxr_1_2_with_everything(tmp_path):
    from tests.factories import ImageFactory

    image = ImageFactory()
    post = PostFactory(image=image, image_alt="A picture")
    CommentFactory(post=post)
    out = io.StringIO()
    call_command("export_wordpress", stdout=out)
    xml = out.getvalue()
    assert "<wp:wxr_version>1.2</wp:wxr_version>" in xml
    assert "<wp:post_type>page</wp:post_type>" in xml  # the footer pages
    assert "<wp:post_type>attachment</wp:post_type>" in xml
    assert "<wp:attachment_url><![CDATA[http" in xml
    assert "<wp:comment_approved>1</wp:comment_approved>" in xml
    assert "_thumbnail_id" in xml
    assert FlatPage.objects.exists() and Image.objects.exists()


def test_comment_text_that_looks_like_html_is_exported_as_text():
    post = PostFactory()
    CommentFactory(post=post, comment="a <script> b ]]> c")
    out = io.StringIO()
    call_command("export_wordpress", stdout=out)
    assert "<![CDATA[a &lt;script&gt; b ]]&gt; c]]>" in out.getvalue()


def test_the_exported_file_imports_with_nothing_refused(tmp_path):
    HouseRule.objects.get(number=1)
    PostFactory()
    output = tmp_path / "out.xml"
    call_command("export_wordpress", str(output), stderr=io.StringIO())
    report = io.StringIO()
    call_command("import_wordpress", str(output), "--dry-run", stdout=report)
    assert "Posts: 1 already" not in report.getvalue()
    assert ImportedObject.objects.count() == 0
