"""RSS 2.0 and Atom feeds of published posts: site-wide, and per category, tag and author.

Thin subclasses of Django's syndication framework over `Post.objects.published()`. Items carry
the full sanitised HTML with absolute links, and attachments as enclosures. GUIDs are the
post's permanent `uid`, so editing a post never makes it reappear as new in a reader.
Responses support conditional GET (ETag and Last-Modified) so frequent polling is cheap.
Election material carries the digital imprint in its entries; a corrected post's entry starts
with its corrections, and its updated date moves on with each. Corrections have a feed too.
"""

import hashlib
import mimetypes
import re

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Count, Max, prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.views.decorators.http import condition

from core import pagecache
from core.site import site_url

from .models import Author, Category, Correction, Post, SiteSettings, Tag

FEED_LENGTH = 20
_RELATIVE_URL = re.compile(r'(\s(?:href|src)=")(/[^/"][^"]*|/)"')


class FullContentRss(Rss201rev2Feed):
    """RSS 2.0 with the full post in <content:encoded>."""

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
        }

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content_html"])


class FullContentAtom(Atom1Feed):
    """Atom 1.0 with the full post in <content type="html">."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


class PostFeed(Feed):
    feed_type = FullContentRss
    description_template = None

    @classmethod
    def view(cls):
        """A view making a fresh feed per request (the feed keeps per-request state)."""

        def feed_view(request, *args, **kwargs):
            return cls()(request, *args, **kwargs)

        return feed_view

    def __call__(self, request, *args, **kwargs):
        self.request = request
        self._built = None
        self.site_url = site_url(request)
        view = condition(etag_func=self.etag, last_modified_func=self.last_modified)(self._render)
        return view(request, *args, **kwargs)

    def _feed(self, request, *args, **kwargs):
        """(state, body, content type) of this feed, kept with the page cache's data: the
        same for every reader, and invalidated by the same changes as the pages."""
        if self._built is None:
            name = f"{self.__class__.__name__}|{self.site_url}|{request.path}"
            key = "feed:" + hashlib.sha256(name.encode()).hexdigest()[:32]
            self._built = pagecache.cached(key, lambda: self._build(request, *args, **kwargs))
        return self._built

    def _build(self, request, *args, **kwargs):
        state = self.feed_state(self.get_object(request, *args, **kwargs))
        response = super().__call__(request, *args, **kwargs)
        return state, response.content, response["Content-Type"]

    def feed_state(self, obj):
        """One cheap query whose answer changes whenever the feed's content can have changed
        (for its ETag and Last-Modified)."""
        return self.posts(obj).aggregate(
            updated=Max("updated_at"), published=Max("published_at"), count=Count("pk")
        )

    def _render(self, request, *args, **kwargs):
        # Django would stamp Last-Modified from the items shown, but If-Modified-Since is
        # judged against `last_modified()`: only `condition` sends the value it checks.
        _, body, content_type = self._feed(request, *args, **kwargs)
        return HttpResponse(body, content_type=content_type)

    # What the feed covers; subclasses narrow it.
    def posts(self, obj):
        return Post.objects.published()

    def title(self, obj):
        return settings.SITE_NAME

    def description(self, obj):
        return settings.SITE_TAGLINE

    def link(self, obj):
        return reverse("posts:home")

    def items(self, obj):
        posts = list(
            self.posts(obj)
            .select_related("author")
            .prefetch_related("categories", "tags", "attachments")
            .order_by("-published_at", "-pk")[:FEED_LENGTH]
        )
        # Corrections, in one more query, only when some post shown has any.
        prefetch_related_objects([post for post in posts if post.corrected_at], "corrections")
        return posts

    @cached_property
    def imprint(self):
        """The digital imprint, fetched once per feed (election material only carries it)."""
        return SiteSettings.current().imprint

    def _state(self, request, *args, **kwargs):
        return self._feed(request, *args, **kwargs)[0]

    def etag(self, request, *args, **kwargs):
        state = self._state(request, *args, **kwargs)
        raw = f"{self.__class__.__name__}|{request.path}|{state}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]

    def last_modified(self, request, *args, **kwargs):
        state = self._state(request, *args, **kwargs)
        stamps = [s for s in (state["updated"], state["published"]) if s is not None]
        return max(stamps) if stamps else None

    def item_title(self, post):
        return post.plain_title

    def item_description(self, post):
        if post.election_material:
            return f"{post.summary} {self.imprint}".strip()
        return post.summary

    def item_extra_kwargs(self, post):
        """The full post: its corrections first, as on its page, and the imprint last."""
        parts = []
        corrections = list(post.corrections.all()) if post.corrected_at else []
        if corrections:
            context = {"corrections": corrections}
            parts.append(render_to_string("includes/feed_corrections.html", context))
        parts.append(post.body_html)
        if post.election_material and self.imprint:
            parts.append(format_html('<p class="imprint">{}</p>', self.imprint))
        return {"content_html": absolute_links("\n".join(parts), self.site_url)}

    def item_guid(self, post):
        return f"urn:uuid:{post.uid}"

    item_guid_is_permalink = False

    def item_pubdate(self, post):
        return post.published_at

    def item_updateddate(self, post):
        return max(post.updated_at, post.published_at)

    def item_author_name(self, post):
        return post.author.display_name

    def item_author_link(self, post):
        return self.site_url + post.author.get_absolute_url()

    def item_categories(self, post):
        return [c.name for c in post.categories.all()] + [t.name for t in post.tags.all()]

    def item_enclosures(self, post):
        attachments = list(post.attachments.all())
        if self.feed_type is FullContentRss:
            attachments = attachments[:1]  # RSS 2.0 allows one enclosure per item
        return [
            Enclosure(
                self.site_url + a.file.url if a.file.url.startswith("/") else a.file.url,
                str(a.size),
                _mime_type(a.file.name),
            )
            for a in attachments
        ]


class AtomPostFeed(PostFeed):
    feed_type = FullContentAtom

    def subtitle(self, obj):
        return self.description(obj)


class CategoryFeed(PostFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Category, slug=slug)

    def posts(self, category):
        return category.posts.published()

    def title(self, category):
        return f"{super().title(None)}: {category.name}"

    def link(self, category):
        return category.get_absolute_url()


class TagFeed(PostFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Tag, slug=slug)

    def posts(self, tag):
        return tag.posts.published()

    def title(self, tag):
        return f"{super().title(None)}: posts tagged {tag.name}"

    def link(self, tag):
        return tag.get_absolute_url()


class AuthorFeed(PostFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Author, slug=slug)

    def posts(self, author):
        return author.posts.published()

    def title(self, author):
        return f"{super().title(None)}: posts by {author.display_name}"

    def link(self, author):
        return author.get_absolute_url()


class CorrectionFeed(Feed):
    """Corrections of published posts, newest first (withdrawn ones say so)."""

    feed_type = Rss201rev2Feed
    description_template = None

    @classmethod
    def view(cls):
        def feed_view(request, *args, **kwargs):
            feed = cls()
            feed.site_url = site_url(request)
            return feed(request, *args, **kwargs)

        return feed_view

    def title(self):
        return f"{settings.SITE_NAME}: corrections"

    def description(self):
        return f"Every correction made to a post on {settings.SITE_NAME}."

    def link(self):
        return reverse("posts:corrections")

    def items(self):
        return Correction.objects.public().select_related("post")[:FEED_LENGTH]

    def item_title(self, correction):
        withdrawn = " (withdrawn)" if correction.is_withdrawn else ""
        return f"Correction to “{correction.post.plain_title}”{withdrawn}"

    def item_description(self, correction):
        html = correction.text_html
        if correction.is_withdrawn:
            html += format_html(
                "<p>Withdrawn on {}: {}</p>",
                date_format(timezone.localtime(correction.withdrawn_at), "j F Y"),
                correction.withdrawal_reason,
            )
        return absolute_links(html, self.site_url)

    def item_link(self, correction):
        return correction.get_absolute_url()

    def item_guid(self, correction):
        return f"urn:uuid:{correction.uid}"

    item_guid_is_permalink = False

    def item_pubdate(self, correction):
        return correction.made_at

    def item_updateddate(self, correction):
        return correction.withdrawn_at or correction.made_at


class AtomCorrectionFeed(CorrectionFeed):
    feed_type = Atom1Feed

    def subtitle(self):
        return self.description()


def absolute_links(html, site_url):
    """Make root-relative href/src attributes absolute, as feed readers need."""
    return _RELATIVE_URL.sub(lambda m: f'{m.group(1)}{site_url}{m.group(2)}"', html)


def _mime_type(name):
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
