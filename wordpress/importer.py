"""Importing a WordPress export: authors, terms, posts, pages, media and threaded comments.

`import_export(stream, …)` reads the file once, as a stream (`wordpress.parser`), inside one
database transaction. Any refusal (hostile or broken XML, an author map naming no account)
rolls everything back and removes every file written so far; a dry run does the same at the
end, after producing the very report a real run would. Nothing here sends email: comments
are saved through `Comment.objects.build_for()` directly, never through the posting
services, and imported moderation decisions are logged as `ModerationEvent`s.

Every imported thing is recorded as an `ImportedObject` (site, kind, WordPress id), which
makes the import idempotent and lets old WordPress addresses redirect.
"""

import collections
import contextlib
import datetime
import inspect
import ipaddress
import re
import zoneinfo
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator, URLValidator
from django.db import connection, transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.text import slugify

from comments.models import Comment, ModerationEvent
from core import pagecache, sanitiser
from posts import images
from posts.models import ATTACHMENT_TYPES, Attachment, Author, Category, Image, Post, Tag
from posts.models import unique_slug as unique_model_slug

from . import content, parser
from .models import ImportedObject

Kind = ImportedObject.Kind
IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "gif", "webp"}
_RESIZED = re.compile(r"-\d+x\d+(?=\.[A-Za-z]+$)")
_NO_DATE = {"", "0000-00-00 00:00:00"}
# Comments are saved this many at a time (a post's comments are never split), with memory
# flat whatever the file's size.
COMMENT_BATCH = 1000


class ImportRefused(Exception):
    """The import cannot go ahead; nothing was written. The message says why, in one line."""


class _DryRun(Exception):
    pass


class Report:
    """Counts per kind and state, and every item skipped, repaired or renamed."""

    KINDS = {
        "author": "authors",
        "category": "categories",
        "tag": "tags",
        "post": "posts",
        "page": "pages",
        "attachment": "attachments",
        "media": "media files",
        "comment": "comments",
        "ignored": "ignored",
    }

    def __init__(self):
        self.counts = Counter()
        self.notes = []  # (kind, WordPress id, message)
        self.site = {}
        self.dry_run = False

    def count(self, kind, state, n=1):
        self.counts[kind, state] += n

    def note(self, kind, wp_id, message):
        self.notes.append((kind, str(wp_id), message))

    def lines(self):
        title = self.site.get("title") or self.site.get("wp:base_site_url") or "a WordPress site"
        version = self.site.get("wp:wxr_version", "?")
        head = f"WordPress export of {title} (WXR {version})"
        lines = [head + (": dry run, nothing was written." if self.dry_run else ".")]
        for kind, label in self.KINDS.items():
            states = [(s, n) for (k, s), n in sorted(self.counts.items()) if k == kind]
            if states:
                lines.append(f"{label.capitalize()}: " + ", ".join(f"{n} {s}" for s, n in states))
        if self.notes:
            lines.append(f"Skipped, repaired or renamed ({len(self.notes)}):")
            lines.extend(f"  {kind} {wp_id}: {message}" for kind, wp_id, message in self.notes)
        return lines

    def __str__(self):
        return "\n".join(self.lines())


def import_export(
    stream,
    *,
    media_dir=None,
    author_map=None,
    dry_run=False,
    time_zone=None,
    progress=None,
):
    """Import a WXR file (opened in binary mode); returns the `Report`. Raises ImportRefused."""
    importer = _Importer(media_dir, author_map or {}, time_zone, progress)
    importer.report.dry_run = dry_run
    try:
        with transaction.atomic():
            importer.run(stream)
            if dry_run:
                raise _DryRun
    except _DryRun:
        importer.remove_written_files()
    except parser.WXRError as error:
        importer.remove_written_files()
        raise ImportRefused(str(error)) from None
    except BaseException:
        importer.remove_written_files()
        raise
    return importer.report


class _Importer:
    def __init__(self, media_dir, author_map, time_zone, progress):
        self.report = Report()
        self.media_dir = Path(media_dir).resolve() if media_dir else None
        self.author_map = author_map
        self.zone = zoneinfo.ZoneInfo(time_zone) if time_zone else timezone.get_default_timezone()
        self.progress = progress
        self.written = []
        self.source = ""
        self.authors = {}  # login -> Author
        self.author_ids = {}  # WordPress author id -> Author
        self.categories = {}  # WordPress slug -> Category
        self.tags = {}
        self.posts = {}  # WordPress post id -> our post's pk (this run and earlier ones)
        self.imported_post_ids = None  # WordPress post id -> pk, from earlier runs
        self.pending_comments = []  # built, saved together every COMMENT_BATCH or so
        self.pages = {}  # WordPress page id -> (path, parent id)
        self.attachments = {}  # WordPress attachment id -> Image
        self.attachment_parents = {}  # WordPress attachment id -> WordPress post id
        self.files = {}  # upload path -> Image, or None when it could not be imported
        self.later_images = []  # (WordPress post id, attachment id) for featured images
        self.later_documents = []  # (attachment item, WordPress parent id)
        self.later_galleries = []  # (WordPress post id, [[ids] or None])
        self.types = {}
        self.old_ips = 0
        self.later_pages = []  # pages whose parent page comes later in the file
        self.max_level = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
        self.retain_ips_after = timezone.now() - datetime.timedelta(
            days=settings.COMMENT_IP_RETENTION_DAYS
        )
        self.site = Site.objects.get_current()
        User = get_user_model()
        for login, username in author_map.items():
            if not User.objects.filter(username=username).exists():
                raise ImportRefused(
                    f"--author-map {login}={username}: there is no account named {username!r}."
                )

    # The run

    def run(self, stream):
        for kind, fields in parser.read(stream, progress=self.progress):
            if kind == "site":
                self.start(fields)
            elif kind == "author":
                self.author(fields)
            elif kind == "category":
                self.term(Kind.CATEGORY, fields)
            elif kind == "tag":
                self.term(Kind.TAG, fields)
            elif kind == "term":
                self.report.count("ignored", f"{fields.get('wp:term_taxonomy', 'custom')} terms")
            else:
                self.item(fields)
                _collapse_commit_hooks()
        self.save_comments()
        self.finish()

    def start(self, site):
        self.report.site = site
        self.source = (site.get("wp:base_site_url") or site.get("link") or "")[:200]
        if site.get("note"):
            self.report.note("site", self.source or "-", site["note"])
        if not self.media_dir:
            self.report.note("site", self.source or "-", "no --media-dir: no media imported")

    def item(self, item):
        if not item.get("wp:post_id"):  # hand-made exports: the address is the identity
            item["wp:post_id"] = f"link:{item.get('link') or item.get('guid', '')}"[:255]
        post_type = item.get("wp:post_type", "post")
        if post_type == "post":
            self.post(item)
        elif post_type == "page":
            self.page(item)
        elif post_type == "attachment":
            self.attachment(item)
        else:
            self.report.count("ignored", f"{post_type} items")

    def finish(self):
        # Comments are inserted in bulk, with no signals: the pages start afresh once, at
        # the commit (posts' own saves ask for the same; the requests are collapsed).
        pagecache.invalidate()
        for item in self.later_pages:
            self.page(item, last_call=True)
        if self.old_ips:
            self.report.note(
                "comment",
                "-",
                f"{self.old_ips} IP address(es) older than the retention period "
                f"({settings.COMMENT_IP_RETENTION_DAYS} days) were left out",
            )
        # Only ids are held while reading (memory stays flat); the posts are fetched here.
        for post_wp_id, wp_id in self.later_images:
            image = self.attachments.get(wp_id)
            if image is not None:
                Post.objects.filter(pk=self.posts[post_wp_id]).update(
                    image=image, image_alt=image.alt_text
                )
            else:
                self.report.note("post", post_wp_id, f"featured image {wp_id} not found")
        for item, parent_id in self.later_documents:
            self.document(item, self.posts.get(parent_id))
        for post_wp_id, galleries in self.later_galleries:
            post = Post.objects.get(pk=self.posts[post_wp_id])
            body = post.body
            for index, ids in enumerate(galleries):
                if ids is None:  # [gallery] alone: the pictures attached to the post
                    ids = [a for a, p in self.attachment_parents.items() if p == post_wp_id]
                found = [self.attachments[i] for i in ids if self.attachments.get(i)]
                figures = "".join(
                    f'<figure><img src="{image.default_url}" alt="{_attr(image.alt_text)}">'
                    "</figure>"
                    for image in found
                )
                if len(found) < len(ids) or not ids:
                    self.report.note("post", post_wp_id, "a gallery's pictures were not all found")
                body = body.replace(content.gallery_marker(index), figures)
            post.body = body
            post.save()

    # Mapping rows

    def mapped(self, kind, wp_id):
        row = ImportedObject.objects.filter(source=self.source, kind=kind, wp_id=str(wp_id)).first()
        if row is not None and row.target is None:  # deleted here since: import it again
            row.delete()
            return None
        return row.target if row is not None else None

    def imported_post(self, wp_id):
        """The post an earlier run imported for this WordPress id, or None. The ids of every
        post imported from this site are read once (ids only: memory stays small), so a
        first import asks nothing per post."""
        if self.imported_post_ids is None:
            self.imported_post_ids = dict(
                ImportedObject.objects.filter(source=self.source, kind=Kind.POST).values_list(
                    "wp_id", "object_id"
                )
            )
        pk = self.imported_post_ids.get(str(wp_id)[:255])
        if pk is None:
            return None
        post = Post.objects.filter(pk=pk).select_related("author__user").first()
        if post is None:  # deleted here since: import it again, with its comments
            rows = ImportedObject.objects.filter(source=self.source)
            rows.filter(kind=Kind.POST, wp_id=wp_id).delete()
            rows.filter(kind=Kind.COMMENT, wp_id__startswith=f"{wp_id}:").delete()
        return post

    def record(self, kind, wp_id, target, guid="", legacy_path=""):
        self.mapping(kind, wp_id, target, guid, legacy_path).save()

    def mapping(self, kind, wp_id, target, guid="", legacy_path=""):
        """The (unsaved) row that maps a WordPress id to what it became here."""
        model = type(target)
        if model not in self.types:
            self.types[model] = ContentType.objects.get_for_model(model)
        return ImportedObject(
            source=self.source,
            kind=kind,
            wp_id=str(wp_id)[:255],
            guid=guid[:500],
            legacy_path=legacy_path[:500],
            content_type=self.types[model],
            object_id=target.pk,
        )

    # People

    def author(self, fields):
        login = fields.get("wp:author_login", "").strip()
        if login:
            author = self.author_for(login, fields)
            if fields.get("wp:author_id"):
                self.author_ids[fields["wp:author_id"]] = author

    def author_for(self, login, fields=None):
        if login in self.authors:
            return self.authors[login]
        fields = fields or {}
        author = self.mapped(Kind.AUTHOR, login)
        User = get_user_model()
        display = (fields.get("wp:author_display_name") or login).strip()[:100] or login[:100]
        if author is not None:
            self.report.count("author", "already imported")
        elif login in self.author_map:
            user = User.objects.get(username=self.author_map[login])
            author = getattr(user, "author_profile", None) or Author.objects.create(
                user=user, display_name=display, slug=self.author_slug(display, login)
            )
            self.report.count("author", "mapped to an existing account")
            self.record(Kind.AUTHOR, login, author)
        else:
            username = login[:150]
            if User.objects.filter(username=username).exists():
                username = unique_username(f"{login[:130]}-wordpress")
                self.report.note(
                    "author", login, f"the login is taken here; the account is {username!r}"
                )
            email = fields.get("wp:author_email", "")
            user = User(
                username=username,
                email=email if _valid_email(email) else "",
                first_name=fields.get("wp:author_first_name", "")[:150],
                last_name=fields.get("wp:author_last_name", "")[:150],
                is_staff=False,
            )
            user.set_unusable_password()
            user.save()
            author = Author.objects.create(
                user=user, display_name=display, slug=self.author_slug(display, login)
            )
            self.report.count("author", "created")
            self.record(Kind.AUTHOR, login, author)
        self.authors[login] = author
        return author

    def author_slug(self, display, login):
        slug = unique_model_slug(Author, display, max_length=100)
        if slug.lower() == slugify(login).lower() or slug.lower() == login.lower():
            slug = unique_model_slug(Author, f"{display} author", max_length=100)
        return slug

    # Categories and tags

    def term(self, kind, fields, name=None):
        if kind == Kind.CATEGORY:
            model, store, wp_slug = Category, self.categories, fields.get("wp:category_nicename")
            name = name or fields.get("wp:cat_name", "")
        else:
            model, store, wp_slug = Tag, self.tags, fields.get("wp:tag_slug")
            name = name or fields.get("wp:tag_name", "")
        wp_slug = (wp_slug or "").strip()
        name = (name or "").strip() or unquote(wp_slug)
        key = wp_slug or slugify(name)
        if key in store:
            return store[key]
        wp_id = fields.get("wp:term_id") or key
        term = self.mapped(kind, key)
        if term is not None:
            self.report.count(kind, "already imported")
        else:
            slug = slugify(unquote(key))[:100] or slugify(name)[:100] or f"{kind}-{wp_id}"
            term = model.objects.filter(slug=slug).first()
            if term is not None:
                self.report.count(kind, "merged with an existing one")
            else:
                base = name[:100]
                if model.objects.filter(name=base).exists():
                    parent = fields.get("wp:category_parent", "")
                    base = f"{name[:80]} ({parent or slug})"[:100]
                    n = 2
                    while model.objects.filter(name=base).exists():
                        base = f"{name[:80]} ({slug} {n})"[:100]
                        n += 1
                    self.report.note(kind, wp_id, f"name {name!r} is taken; named {base!r}")
                term = model.objects.create(name=base, slug=slug)
                self.report.count(kind, "created")
                if slug != key:
                    self.report.note(kind, wp_id, f"slug {key!r} became {slug!r}")
            if fields.get("wp:category_parent"):
                self.report.note(
                    kind,
                    wp_id,
                    f"its parent {fields['wp:category_parent']!r} was flattened "
                    "(our categories have no hierarchy)",
                )
            self.record(kind, key, term)
        store[key] = term
        return term

    # Posts

    def post(self, item):
        wp_id = item.get("wp:post_id", "")
        status = item.get("wp:status", "publish")
        existing = self.imported_post(wp_id)
        if existing is not None:
            self.posts[wp_id] = existing.pk
            self.report.count("post", "already imported")
            self.comments(item, existing)
            return
        if status in ("trash", "auto-draft", "inherit"):
            self.report.count("post", f"skipped ({status})")
            self.report.note("post", wp_id, f"not imported: its status is {status!r}")
            return
        title = _one_line(item.get("title", ""))
        if len(title) > 200:
            self.report.note("post", wp_id, "its title was shortened to 200 characters")
            title = title[:199] + "…"
        published_at = self.date(item.get("wp:post_date_gmt"), item.get("wp:post_date"))
        if status in ("publish", "future") and not item.get("wp:post_password"):
            post_status = Post.Status.PUBLISHED
            if published_at is None:
                published_at = timezone.now()
            state = "scheduled" if published_at > timezone.now() else "published"
            if status == "future" and state == "published":
                self.report.note("post", wp_id, "it was scheduled for a time now past: published")
        else:
            post_status, state = Post.Status.DRAFT, "draft"
            if item.get("wp:post_password"):
                self.report.note("post", wp_id, "password-protected: imported as a draft")
            elif status in ("private", "pending"):
                self.report.note("post", wp_id, f"{status}: imported as a draft")
        converted = content.convert_body(item.get("content:encoded", ""), self.image_url)
        self.content_notes("post", wp_id, converted)
        excerpt = content.comment_text(item.get("excerpt:encoded", "")) or content.comment_text(
            converted.excerpt_html
        )
        if len(excerpt) > 1000:
            excerpt = excerpt[:999] + "…"
            self.report.note("post", wp_id, "its excerpt was shortened to 1,000 characters")
        login = item.get("dc:creator", "").strip() or "wordpress"
        post = Post(
            title=title or f"Untitled ({wp_id})",
            author=self.author_for(login),
            body=converted.html,
            body_format=Post.BodyFormat.HTML,
            excerpt=excerpt,
            status=post_status,
            published_at=published_at,
            sticky=item.get("wp:is_sticky") == "1",
            comments_enabled=item.get("wp:comment_status", "open") == "open",
        )
        wanted = slugify(unquote(item.get("wp:post_name", ""))) or slugify(title) or "post"
        post.slug = self.unique_post_slug(wanted[:200], published_at)
        if item.get("wp:post_name") and post.slug != unquote(item["wp:post_name"]):
            self.report.note("post", wp_id, f"its address ends …/{post.slug}/")
        post.save()
        self.add_terms(post, item, wp_id)
        thumbnail = item["postmeta"].get("_thumbnail_id", "").strip()
        if thumbnail:
            self.later_images.append((wp_id, thumbnail))
        if converted.galleries:
            self.later_galleries.append((wp_id, converted.galleries))
        self.posts[wp_id] = post.pk
        self.record(
            Kind.POST, wp_id, post, guid=item.get("guid", ""), legacy_path=_path(item.get("link"))
        )
        self.report.count("post", state)
        self.comments(item, post, fresh=True)

    def unique_post_slug(self, wanted, published_at):
        if published_at is None:
            lookup = {"published_at__isnull": True}
        else:
            day = timezone.localtime(published_at).date()
            start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
            lookup = {
                "published_at__gte": start,
                "published_at__lt": start + datetime.timedelta(days=1),
            }
        return unique_model_slug(Post, wanted, extra=lookup)

    def add_terms(self, post, item, wp_id):
        categories, tags = [], []
        for term in item["terms"]:
            domain = term["domain"]
            if domain == "category":
                categories.append(
                    self.term(Kind.CATEGORY, {"wp:category_nicename": term["slug"]}, term["name"])
                )
            elif domain in ("post_tag", "tag"):
                tags.append(self.term(Kind.TAG, {"wp:tag_slug": term["slug"]}, term["name"]))
            else:
                self.report.count("ignored", f"{domain} terms on posts")
        # A new post: its rows are inserted directly. (The filing signals would only mark
        # it updated and re-index it, which its own save has asked for; the pages start
        # afresh at the end of the import.)
        for relation, terms, column in (
            (Post.categories, categories, "category_id"),
            (Post.tags, tags, "tag_id"),
        ):
            through = relation.through
            rows = [
                through(post_id=post.pk, **{column: t.pk})
                for t in {t.pk: t for t in terms}.values()
            ]
            if rows:
                through.objects.bulk_create(rows)

    def content_notes(self, kind, wp_id, converted):
        for message in converted.notes:
            self.report.note(kind, wp_id, message)
        for url in converted.missing:
            self.report.note(kind, wp_id, f"picture not found: {url}")
        if converted.foreign_images:
            self.report.note(
                kind, wp_id, f"{converted.foreign_images} picture(s) from other sites became links"
            )

    def date(self, gmt, local):
        """A WordPress date: post_date_gmt (UTC), else post_date in the blog's time zone."""
        try:
            if gmt and gmt.strip() not in _NO_DATE:
                return datetime.datetime.strptime(gmt.strip() + " +0000", "%Y-%m-%d %H:%M:%S %z")
            if local and local.strip() not in _NO_DATE:
                naive = datetime.datetime.strptime(local.strip(), "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
                return naive.replace(tzinfo=self.zone)
        except ValueError:
            return None
        return None

    # Pages

    def page(self, item, last_call=False):
        wp_id = item.get("wp:post_id", "")
        existing = self.mapped(Kind.PAGE, wp_id)
        if existing is not None:
            self.pages[wp_id] = existing.url
            self.report.count("page", "already imported")
            return
        status = item.get("wp:status")
        if status not in ("publish", "private") or item.get("wp:post_password"):
            self.report.count("page", "skipped (not published)")
            self.report.note("page", wp_id, f"not imported: it is {status!r}")
            return
        title = _one_line(item.get("title", ""))[:200] or f"Page {wp_id}"
        slug = slugify(unquote(item.get("wp:post_name", ""))) or slugify(title) or f"page-{wp_id}"
        parent = item.get("wp:post_parent", "0")
        prefix = "/"
        if parent not in ("", "0"):
            if parent in self.pages:
                prefix = self.pages[parent]
            elif not last_call:
                self.later_pages.append(item)
                return
            else:
                self.report.note("page", wp_id, f"its parent page {parent} was not imported")
        wanted = f"{prefix}{slug}"[:98] + "/"  # FlatPage.url holds 100 characters
        converted = content.convert_body(item.get("content:encoded", ""), self.image_url)
        self.content_notes("page", wp_id, converted)
        if item["comments"]:
            self.report.count("comment", "skipped (on a page)", len(item["comments"]))
            self.report.note("page", wp_id, "its comments were not imported: pages take none")
        private = status == "private"
        same = FlatPage.objects.filter(url=wanted, title=title).first()
        if same is not None and sanitiser.render_markdown(same.content) == (
            sanitiser.render_markdown(converted.html)
        ):  # e.g. the shipped About page, exported and imported again: nothing to add
            self.pages[wp_id] = wanted
            self.record(Kind.PAGE, wp_id, same, guid=item.get("guid", ""))
            self.report.count("page", "the same page already here")
            return
        url, n = wanted, 1
        while _url_taken(url):
            n += 1
            url = f"{wanted[:-1][:90]}-{n}/"
        if url != wanted:
            self.report.note("page", wp_id, f"{wanted} is taken here; the page is at {url}")
        if private:
            self.report.note("page", wp_id, "private: only signed-in readers may see it")
        page = FlatPage.objects.create(
            url=url, title=title, content=converted.html, registration_required=private
        )
        page.sites.add(self.site)
        self.pages[wp_id] = url
        self.record(Kind.PAGE, wp_id, page, guid=item.get("guid", ""))
        self.report.count("page", "private" if private else "published")

    # Media

    def attachment(self, item):
        wp_id = item.get("wp:post_id", "")
        parent = item.get("wp:post_parent", "0")
        if parent not in ("", "0"):
            self.attachment_parents[wp_id] = parent
        existing = self.mapped(Kind.ATTACHMENT, wp_id)
        if existing is not None:
            if isinstance(existing, Image):
                self.attachments[wp_id] = existing
            self.report.count("attachment", "already imported")
            return
        url = item.get("wp:attachment_url") or item.get("guid", "")
        path = content.upload_path(url)
        extension = (path or "").rsplit(".", 1)[-1].lower() if path and "." in path else ""
        if extension in IMAGE_EXTENSIONS:
            alt = item["postmeta"].get("_wp_attachment_image_alt", "").strip()
            image = self.import_image(path, alt or _one_line(item.get("title", "")), wp_id)
            if image is not None:
                if alt and image.alt_text != alt:  # first met in a body, without its alt text
                    image.alt_text, image.title = (
                        alt[:300],
                        _one_line(item.get("title", ""))[:200] or image.title,
                    )
                    image.save(update_fields=["alt_text", "title"])
                self.attachments[wp_id] = image
                self.record(Kind.ATTACHMENT, wp_id, image, guid=item.get("guid", ""))
                self.report.count("attachment", "picture")
            return
        if extension in ATTACHMENT_TYPES:
            if parent in self.posts:
                self.document(item, self.posts[parent])
            else:
                self.later_documents.append((item, parent))
            return
        self.report.count("attachment", "skipped")
        self.report.note("attachment", wp_id, f"not a picture or a document we keep: {url}")

    def document(self, item, post_pk):
        wp_id = item.get("wp:post_id", "")
        url = item.get("wp:attachment_url") or item.get("guid", "")
        if post_pk is None:
            self.report.count("attachment", "skipped")
            self.report.note("attachment", wp_id, "a document attached to no imported post")
            return
        path = self.media_file(content.upload_path(url), "attachment", wp_id)
        if path is None:
            return
        extension = path.suffix.lower().lstrip(".")
        magic, _label = ATTACHMENT_TYPES[extension]
        with path.open("rb") as handle:
            if not handle.read(len(magic)).startswith(magic):
                self.report.count("attachment", "skipped")
                self.report.note("attachment", wp_id, f"{path.name} is not a real {extension}")
                return
            handle.seek(0)
            attachment = Attachment(post_id=post_pk, title=_one_line(item.get("title", ""))[:200])
            attachment.file.save(path.name, File(handle), save=False)
        self.written.append(attachment.file.name)
        attachment.save()
        self.record(Kind.ATTACHMENT, wp_id, attachment, guid=item.get("guid", ""))
        self.report.count("attachment", "document")

    def media_file(self, relative, kind, wp_id):
        """The file for an upload path inside --media-dir, or None (reported)."""
        if not self.media_dir or not relative:
            if self.media_dir and not relative:
                self.report.note(kind, wp_id, "no file address")
            self.report.count("media", "not imported (no media folder)")
            return None
        candidate = (self.media_dir / unquote(relative)).resolve()
        if not candidate.is_relative_to(self.media_dir):
            self.report.count("media", "refused")
            self.report.note(kind, wp_id, f"{relative} points outside the media folder: refused")
            return None
        if not candidate.is_file():
            unsized = Path(_RESIZED.sub("", str(candidate)))
            if unsized.is_file() and unsized.resolve().is_relative_to(self.media_dir):
                return unsized
            self.report.count("media", "missing")
            self.report.note(kind, wp_id, f"file not found in the media folder: {relative}")
            return None
        return candidate

    def import_image(self, relative, alt, wp_id, kind="attachment"):
        """An `Image` for an upload path, imported once (this run or an earlier one)."""
        key = _RESIZED.sub("", relative)
        if key in self.files:
            return self.files[key]
        image = self.mapped(Kind.FILE, key[:255])
        if image is None:
            path = self.media_file(key, kind, wp_id) or self.media_file(relative, kind, wp_id)
            if path is None:
                self.files[key] = None
                return None
            with path.open("rb") as handle:
                upload = File(handle, name=path.name)
                try:
                    processed = images.process_upload(upload)
                except ValidationError as error:
                    self.report.count("media", "refused")
                    self.report.note(kind, wp_id, f"{relative}: {' '.join(error.messages)}")
                    self.files[key] = None
                    return None
            title = alt or path.stem
            image = Image(title=title[:200], alt_text=(alt or title)[:300])
            images.store(image, processed)
            self.written.extend([image.file.name, *(r["name"] for r in image.renditions)])
            image.save()
            self.record(Kind.FILE, key[:255], image)
            self.report.count("media", "pictures imported")
        self.files[key] = image
        return image

    def image_url(self, url, link=False):
        relative = content.upload_path(url)
        if not relative:
            return None
        extension = relative.rsplit(".", 1)[-1].lower() if "." in relative else ""
        if extension not in IMAGE_EXTENSIONS:
            return None
        image = self.import_image(relative, "", url, kind="post")
        if image is None:
            return None
        return image.file.url if link else image.default_url

    def remove_written_files(self):
        for name in self.written:
            with contextlib.suppress(OSError):
                default_storage.delete(name)
        self.written = []

    # Comments

    def comments(self, item, post, fresh=False):
        """A post's comments, saved together: built one by one by `Comment.objects.build_for()`
        (parents first), then inserted by `Comment.objects.bulk_add()` with their moderation
        log entries and mapping rows, in a few queries whatever their number."""
        wp_comments = {}
        for fields in item["comments"]:
            # Keyed by post too: hand-made exports reuse comment ids across posts.
            wp_id = f"{item['wp:post_id']}:{fields.get('wp:comment_id', '')}"
            fields["wp:comment_parent"] = (
                f"{item['wp:post_id']}:{fields.get('wp:comment_parent') or '0'}"
            )
            kind = fields.get("wp:comment_type", "") or "comment"
            if kind in ("pingback", "trackback"):
                self.report.count("comment", f"skipped ({kind})")
                continue
            wp_comments[wp_id] = fields
        if not wp_comments:
            return
        made = {} if fresh else self.imported_comments(list(wp_comments))
        if made:
            self.report.count("comment", "already imported", len(made))
        built = []  # (comment, moderation action, when, WordPress id)
        post_author = post.author
        for wp_id, parent_id in self.thread_order(wp_comments):
            if wp_id in made:
                continue
            comment, action, at = self.comment(
                post, post_author, wp_id, wp_comments[wp_id], made.get(parent_id)
            )
            made[wp_id] = comment
            built.append((comment, action, at, wp_id))
        self.pending_comments.extend(built)
        if len(self.pending_comments) >= COMMENT_BATCH:
            self.save_comments()

    def save_comments(self):
        """Save the comments built so far (whole posts' worth), with their log entries and
        mapping rows, in a few queries."""
        built, self.pending_comments = self.pending_comments, []
        if not built:
            return
        Comment.objects.bulk_add([comment for comment, *_ in built])
        ModerationEvent.objects.bulk_create(
            [
                ModerationEvent(
                    comment=comment,
                    action=action,
                    note=f"Imported from WordPress (comment {wp_id})"[:500],
                    at=at,
                    made_public=action == ModerationEvent.Action.APPROVED,
                )
                for comment, action, at, wp_id in built
            ],
            batch_size=500,
        )
        ImportedObject.objects.bulk_create(
            [self.mapping(Kind.COMMENT, wp_id, comment) for comment, _, _, wp_id in built],
            batch_size=500,
        )

    def imported_comments(self, wp_ids):
        """The comments an earlier run imported, by WordPress id (a few queries per post)."""
        found = {}
        for start in range(0, len(wp_ids), 500):
            rows = ImportedObject.objects.filter(
                source=self.source, kind=Kind.COMMENT, wp_id__in=wp_ids[start : start + 500]
            ).values_list("wp_id", "object_id")
            found.update(rows)
        comments = Comment.objects.in_bulk(found.values())
        return {wp_id: comments[pk] for wp_id, pk in found.items() if pk in comments}

    def thread_order(self, wp_comments):
        """(WordPress id, parent's id or None) for a post's comments, parents before their
        replies and replies in the order of their ids, whatever the file's order. A missing
        or cross-post parent, or a loop, makes a top-level comment (reported)."""
        parent_of, replies = {}, {}
        for wp_id in sorted(wp_comments, key=_number):
            parent = wp_comments[wp_id]["wp:comment_parent"]
            if parent.endswith(":0"):
                parent = None
            elif parent not in wp_comments:
                self.report.note(
                    "comment",
                    wp_id,
                    f"its parent {parent} is not on this post: made a top-level comment",
                )
                parent = None
            parent_of[wp_id] = parent
            replies.setdefault(parent, []).append(wp_id)
        order, placed = [], set()

        def place(roots):
            queue = collections.deque(roots)
            while queue:
                wp_id = queue.popleft()
                if wp_id in placed:
                    continue
                placed.add(wp_id)
                order.append((wp_id, parent_of[wp_id]))
                queue.extend(replies.get(wp_id, ()))

        place(replies.get(None, ()))
        while len(placed) < len(parent_of):  # a loop: break it at its lowest id
            wp_id = min((i for i in parent_of if i not in placed), key=_number)
            self.report.note("comment", wp_id, "its replies form a loop: made top-level")
            parent_of[wp_id] = None
            place([wp_id])
        return order

    def comment(self, post, post_author, wp_id, fields, parent):
        """An unsaved comment (by `build_for`), its moderation decision and that decision's
        date."""
        approved = fields.get("wp:comment_approved", "0")
        meta = fields["meta"]
        submitted = self.date(fields.get("wp:comment_date_gmt"), fields.get("wp:comment_date")) or (
            post.published_at or timezone.now()
        )
        name = _one_line(fields.get("wp:comment_author", "")) or "Anonymous"
        if len(name) > 50:
            self.report.note("comment", wp_id, "the commenter's name was shortened to 50 letters")
            name = name[:49] + "…"
        email = fields.get("wp:comment_author_email", "").strip()
        if email and not _valid_email(email):
            self.report.note("comment", wp_id, "the commenter's email is not valid: left out")
            email = ""
        website = fields.get("wp:comment_author_url", "").strip()
        if website and not _valid_website(website):
            self.report.note("comment", wp_id, "the commenter's website was left out")
            website = ""
        user = None
        user_id = fields.get("wp:comment_user_id", "0")
        by_author = self.author_ids.get(user_id) if user_id not in ("", "0") else None
        if by_author == post_author or (
            email and post_author.user.email and email.lower() == post_author.user.email.lower()
        ):
            user = post_author.user
        state = {"1": "approved", "spam": "spam", "trash": "removed", "post-trashed": "removed"}
        queue = state.get(approved, "pending")
        moderated_at = None
        if queue == "removed":
            moderated_at = _unix(meta.get("_wp_trash_meta_time")) or submitted
        was_public = queue == "approved" or (
            queue == "removed" and meta.get("_wp_trash_meta_status") == "1"
        )
        if parent is not None and parent.level >= self.max_level:
            self.report.note("comment", wp_id, "deeper than our threads: attached at the deepest")
        comment = Comment.objects.build_for(
            post,
            parent,
            user=user,
            user_name=name,
            user_email=email[:254],
            user_url=website,
            ip_address=self.ip(fields.get("wp:comment_author_IP", ""), submitted),
            submit_date=submitted,
            comment=content.comment_text(fields.get("wp:comment_content", "")),
            is_public=was_public,
            is_removed=queue == "removed",
            is_spam=queue == "spam",
            confirmed=True,
            followup=False,
            moderated_at=moderated_at,
        )
        action = {
            "approved": ModerationEvent.Action.APPROVED,
            "pending": ModerationEvent.Action.HELD,
            "spam": ModerationEvent.Action.SPAM,
            "removed": ModerationEvent.Action.REMOVED,
        }[queue]
        self.report.count("comment", queue)
        return comment, action, moderated_at or submitted

    def ip(self, text, submitted):
        """The commenter's IP address, kept only while the privacy notice says we keep it."""
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            return None
        if submitted < self.retain_ips_after:
            self.old_ips += 1
            return None
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)


def _collapse_commit_hooks():
    """Keep one of each argument-free after-commit hook (the page cache's "start a new
    generation" is queued by every save): a 100,000-comment import would otherwise queue
    hundreds of thousands of identical calls, and run them all at commit."""
    seen = set()
    kept = []
    for entry in connection.run_on_commit:
        callback = entry[1]
        if inspect.isfunction(callback):
            if callback in seen:
                continue
            seen.add(callback)
        kept.append(entry)
    connection.run_on_commit[:] = kept


def _url_taken(url):
    if FlatPage.objects.filter(url=url).exists():
        return True
    try:
        match = resolve(url)
    except Resolver404:
        return False
    # The footer pages' routes are flat pages too: taken only if the page exists (above).
    return match.url_name not in (None, "about", "accessibility")


def unique_username(base):
    User = get_user_model()
    candidate, n = base, 1
    while User.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _valid_email(email):
    try:
        EmailValidator()(email)
    except ValidationError:
        return False
    return len(email) <= 254


def _valid_website(url):
    if len(url) > 200 or urlsplit(url).scheme.lower() not in ("http", "https"):
        return False
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return False
    return True


def _unix(value):
    try:
        return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _number(wp_id):
    number = wp_id.rsplit(":", 1)[-1]
    return (0, int(number)) if number.isdigit() else (1, wp_id)


def _one_line(text):
    return " ".join((text or "").split())


def _path(url):
    return urlsplit(url or "").path if url else ""


def _attr(text):
    from html import escape

    return escape(text, quote=True)
