"""Everything on the blog as a WordPress export (WXR 1.2), which WordPress's importer reads.

Posts carry their rendered, sanitised HTML (a Markdown body is exported as what readers see);
pages are the flat pages; pictures and documents are attachments with their full URLs;
comments keep their threads (`wp:comment_parent`) and states (approved 1, pending 0, spam,
trash). Written as a stream, one post at a time.
"""

import datetime
import html

from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.utils import timezone
from django.utils.text import slugify

from comments.models import Comment
from core.sanitiser import render_markdown
from core.site import site_url
from posts.models import Attachment, Author, Category, Image, Post, Tag

WXR_NAMESPACES = (
    'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:wp="http://wordpress.org/export/1.2/"'
)


def cdata(text):
    """Text as CDATA; `]]>` inside it is split across two sections, as WordPress does."""
    return "<![CDATA[" + (text or "").replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _e(text):
    return html.escape(str(text or ""), quote=False)


def write(out, request=None):
    """Write the export to the text stream `out`."""

    def gmt(moment):
        if moment is None:
            return "0000-00-00 00:00:00"
        return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")

    def local(moment):
        if moment is None:
            return "0000-00-00 00:00:00"
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")

    root = site_url(request)
    base = root + "/"

    w = out.write
    w('<?xml version="1.0" encoding="UTF-8" ?>\n')
    w(f'<!-- generator="Barnet Blog" created="{timezone.now():%Y-%m-%d %H:%M}" -->\n')
    w(f'<rss version="2.0" {WXR_NAMESPACES}>\n<channel>\n')
    w(f"<title>{_e(settings.SITE_NAME)}</title>\n<link>{_e(base)}</link>\n")
    w(f"<description>{_e(settings.SITE_TAGLINE)}</description>\n")
    w("<language>en-GB</language>\n<wp:wxr_version>1.2</wp:wxr_version>\n")
    w(f"<wp:base_site_url>{_e(base)}</wp:base_site_url>\n")
    w(f"<wp:base_blog_url>{_e(base)}</wp:base_blog_url>\n")
    for author in Author.objects.select_related("user"):
        user = author.user
        w(
            f"<wp:author><wp:author_id>{user.pk}</wp:author_id>"
            f"<wp:author_login>{cdata(user.get_username())}</wp:author_login>"
            f"<wp:author_email>{cdata(user.email)}</wp:author_email>"
            f"<wp:author_display_name>{cdata(author.display_name)}</wp:author_display_name>"
            f"<wp:author_first_name>{cdata(user.first_name)}</wp:author_first_name>"
            f"<wp:author_last_name>{cdata(user.last_name)}</wp:author_last_name></wp:author>\n"
        )
    for category in Category.objects.all():
        w(
            f"<wp:category><wp:term_id>{category.pk}</wp:term_id>"
            f"<wp:category_nicename>{cdata(category.slug)}</wp:category_nicename>"
            "<wp:category_parent></wp:category_parent>"
            f"<wp:cat_name>{cdata(category.name)}</wp:cat_name>"
            f"<wp:category_description>{cdata(category.description)}"
            "</wp:category_description></wp:category>\n"
        )
    for tag in Tag.objects.all():
        w(
            f"<wp:tag><wp:term_id>{tag.pk}</wp:term_id><wp:tag_slug>{cdata(tag.slug)}"
            f"</wp:tag_slug><wp:tag_name>{cdata(tag.name)}</wp:tag_name></wp:tag>\n"
        )
    w(f"<generator>{_e(base)}</generator>\n")

    # Ids: posts keep theirs; pages, pictures and documents are numbered after them, as
    # WordPress keeps every kind in one table.
    last = Post.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    page_ids = {
        pk: last + n for n, pk in enumerate(FlatPage.objects.values_list("pk", flat=True), 1)
    }
    last += len(page_ids)
    image_ids = {pk: last + n for n, pk in enumerate(Image.objects.values_list("pk", flat=True), 1)}
    last += len(image_ids)
    document_ids = {
        pk: last + n for n, pk in enumerate(Attachment.objects.values_list("pk", flat=True), 1)
    }

    def item(fields, body="", excerpt="", terms=(), meta=(), comments=""):
        w("<item>\n")
        for name, value in fields:
            w(f"<{name}>{value}</{name}>\n")
        w(f"<content:encoded>{cdata(body)}</content:encoded>\n")
        w(f"<excerpt:encoded>{cdata(excerpt)}</excerpt:encoded>\n")
        for domain, slug, name in terms:
            w(f'<category domain="{domain}" nicename="{_e(slug)}">{cdata(name)}</category>\n')
        for key, value in meta:
            w(
                f"<wp:postmeta><wp:meta_key>{cdata(key)}</wp:meta_key>"
                f"<wp:meta_value>{cdata(value)}</wp:meta_value></wp:postmeta>\n"
            )
        w(comments)
        w("</item>\n")

    posts = Post.objects.select_related("author__user", "image").prefetch_related(
        "categories", "tags"
    )
    for post in posts.order_by("pk").iterator(chunk_size=200):
        link = root + post.get_absolute_url()
        if post.status == Post.Status.DRAFT:
            status = "draft"
        else:
            status = "future" if post.is_scheduled else "publish"
        meta = []
        if post.image_id:
            meta.append(("_thumbnail_id", str(image_ids[post.image_id])))
        item(
            [
                ("title", _e(post.title)),
                ("link", _e(link)),
                ("dc:creator", cdata(post.author.user.get_username())),
                ("guid", _e(f"urn:uuid:{post.uid}")),
                ("description", ""),
                ("wp:post_id", post.pk),
                ("wp:post_date", cdata(local(post.published_at))),
                ("wp:post_date_gmt", cdata(gmt(post.published_at))),
                ("wp:comment_status", "open" if post.comments_enabled else "closed"),
                ("wp:ping_status", "closed"),
                ("wp:post_name", cdata(post.slug)),
                ("wp:status", status),
                ("wp:post_parent", 0),
                ("wp:menu_order", 0),
                ("wp:post_type", "post"),
                ("wp:post_password", ""),
                ("wp:is_sticky", int(post.sticky)),
            ],
            body=post.body_html,
            excerpt=post.excerpt,
            terms=[("category", c.slug, c.name) for c in post.categories.all()]
            + [("post_tag", t.slug, t.name) for t in post.tags.all()],
            meta=meta,
            comments=_comments(post, gmt, local),
        )
    page_at = dict(FlatPage.objects.values_list("url", "pk"))
    for page in FlatPage.objects.order_by("pk"):
        # /about/team/ is the page "team" under /about/ (when there is one), as in WordPress.
        above = page.url.rstrip("/").rsplit("/", 1)[0] + "/"
        parent = page_at.get(above) if above != "/" else None
        item(
            [
                ("title", _e(page.title)),
                ("link", _e(root + page.url)),
                ("dc:creator", cdata("")),
                ("guid", _e(root + page.url)),
                ("wp:post_id", page_ids[page.pk]),
                ("wp:comment_status", "closed"),
                ("wp:post_name", cdata(slugify(page.url.strip("/").split("/")[-1]) or "page")),
                ("wp:status", "private" if page.registration_required else "publish"),
                ("wp:post_parent", page_ids[parent] if parent else 0),
                ("wp:post_type", "page"),
            ],
            body=render_markdown(page.content),
        )
    for image in Image.objects.order_by("pk"):
        url = root + image.file.url
        parent = image.posts.order_by("pk").values_list("pk", flat=True).first() or 0
        item(
            [
                ("title", _e(image.title)),
                ("guid", _e(url)),
                ("wp:post_id", image_ids[image.pk]),
                ("wp:post_date_gmt", cdata(gmt(image.uploaded_at))),
                ("wp:status", "inherit"),
                ("wp:post_parent", parent),
                ("wp:post_type", "attachment"),
                ("wp:attachment_url", cdata(url)),
            ],
            meta=[("_wp_attachment_image_alt", image.alt_text)],
        )
    for document in Attachment.objects.order_by("pk"):
        url = root + document.file.url
        item(
            [
                ("title", _e(document.title)),
                ("guid", _e(url)),
                ("wp:post_id", document_ids[document.pk]),
                ("wp:status", "inherit"),
                ("wp:post_parent", document.post_id),
                ("wp:post_type", "attachment"),
                ("wp:attachment_url", cdata(url)),
            ]
        )
    w("</channel>\n</rss>\n")


def _comments(post, gmt, local):
    parts = []
    for comment in Comment.objects.for_post(post).order_by("pk"):
        if comment.is_spam:
            approved = "spam"
        elif comment.is_removed:
            approved = "trash"
        elif not comment.confirmed:
            continue  # never confirmed: not a comment yet
        else:
            approved = "1" if comment.is_public else "0"
        meta = ""
        if approved == "trash":
            meta = (
                "<wp:commentmeta><wp:meta_key>_wp_trash_meta_status</wp:meta_key>"
                f"<wp:meta_value>{'1' if comment.is_public else '0'}</wp:meta_value>"
                "</wp:commentmeta>"
            )
            if comment.moderated_at:
                meta += (
                    "<wp:commentmeta><wp:meta_key>_wp_trash_meta_time</wp:meta_key>"
                    f"<wp:meta_value>{int(comment.moderated_at.timestamp())}</wp:meta_value>"
                    "</wp:commentmeta>"
                )
        parent = comment.parent_id if comment.parent_id != comment.pk else 0
        parts.append(
            "<wp:comment>"
            f"<wp:comment_id>{comment.pk}</wp:comment_id>"
            f"<wp:comment_author>{cdata(comment.user_name)}</wp:comment_author>"
            f"<wp:comment_author_email>{cdata(comment.user_email)}</wp:comment_author_email>"
            f"<wp:comment_author_url>{cdata(comment.user_url)}</wp:comment_author_url>"
            f"<wp:comment_author_IP>{cdata(comment.ip_address or '')}</wp:comment_author_IP>"
            f"<wp:comment_date>{cdata(local(comment.submit_date))}</wp:comment_date>"
            f"<wp:comment_date_gmt>{cdata(gmt(comment.submit_date))}</wp:comment_date_gmt>"
            f"<wp:comment_content>{cdata(html.escape(comment.comment, quote=False))}"
            "</wp:comment_content>"
            f"<wp:comment_approved>{approved}</wp:comment_approved>"
            "<wp:comment_type>comment</wp:comment_type>"
            f"<wp:comment_parent>{parent}</wp:comment_parent>"
            f"<wp:comment_user_id>{comment.user_id or 0}</wp:comment_user_id>"
            f"{meta}</wp:comment>\n"
        )
    return "".join(parts)
