"""Posts, and what hangs off them: authors, categories, tags, images and attachments.

`Post.objects.published()` is the single rule for what the public may see. Every view, feed,
sitemap and template tag goes through it; nothing else in the project filters on status.
"""

import datetime
import os
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import MaxLengthValidator
from django.db import connection, models
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.text import slugify

from core import sanitiser
from core.reversing import reverse

# Long enough for any real post, short enough that rendering stays quick.
BODY_MAX_LENGTH = 200_000
EXCERPT_WORDS = 55


def unique_slug(model, value, *, exclude_pk=None, extra=None, max_length=200):
    """A slug from `value`, made unique among `model` rows matching `extra` with -2, -3…"""
    base = (slugify(value) or "item")[: max_length - 6].strip("-") or "item"
    candidate, n = base, 1
    others = model._default_manager.filter(**(extra or {})).exclude(pk=exclude_pk)
    while others.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


class Author(models.Model):
    """The public face of a user who writes posts.

    The slug is public (author archives use it) and is never the login username.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="author_profile"
    )
    display_name = models.CharField(max_length=100)
    slug = models.SlugField(
        max_length=100, unique=True, help_text="Used in the author's public address."
    )
    bio = models.TextField("short biography", blank=True, max_length=1000)

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Author, self.display_name, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("posts:author", kwargs={"slug": self.slug})

    def clean(self):
        if self.slug and self.user_id and self.slug.lower() == self.user.get_username().lower():
            raise ValidationError(
                {"slug": "Choose a public address that is not the login username."}
            )


class TaxonomyQuerySet(models.QuerySet):
    def with_published_counts(self):
        """Annotate `num_posts` (published posts only) and drop terms with none, by name.

        The ordering is explicit: Django ignores Meta.ordering in a GROUP BY query, and
        PostgreSQL then returns the terms in no particular order.
        """
        now = timezone.now()
        published = Q(posts__status=Post.Status.PUBLISHED, posts__published_at__lte=now)
        return (
            self.annotate(num_posts=Count("posts", filter=published))
            .filter(num_posts__gt=0)
            .order_by(*self.model._meta.ordering)
        )


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True, max_length=1000)

    objects = TaxonomyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("posts:category", kwargs={"slug": self.slug})


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    objects = TaxonomyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("posts:tag", kwargs={"slug": self.slug})


def image_upload_to(instance, filename):
    return f"images/{instance.key}/original{os.path.splitext(filename)[1].lower()}"


class Image(models.Model):
    """An uploaded picture, re-encoded without metadata, with responsive renditions.

    Uploads go through `posts.images.process_upload` (see `posts/forms.py`); the stored
    original and every rendition are re-encoded copies, never the uploaded bytes.
    """

    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    title = models.CharField(max_length=200)
    alt_text = models.CharField(
        max_length=300,
        help_text="Describe the picture for people who cannot see it.",
    )
    file = models.FileField(upload_to=image_upload_to, max_length=255)
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    # [{"width": 480, "height": 320, "name": "images/<key>/480.jpg"}, …], narrowest first.
    renditions = models.JSONField(default=list, editable=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.title

    def rendition(self, max_width=960):
        """The widest rendition no wider than `max_width` (or the narrowest there is)."""
        fitting = [r for r in self.renditions if r["width"] <= max_width]
        return (fitting or self.renditions[:1] or [None])[-1]

    def url_for(self, rendition):
        return default_storage.url(rendition["name"])

    @property
    def srcset(self):
        return ", ".join(f"{self.url_for(r)} {r['width']}w" for r in self.renditions)

    @property
    def default_rendition(self):
        return self.rendition(960)

    @property
    def default_url(self):
        rendition = self.default_rendition
        return self.url_for(rendition) if rendition else self.file.url

    @property
    def social_rendition(self):
        """The picture for link previews (about 1,200 pixels wide is what sites ask for)."""
        rendition = self.rendition(1600)
        if rendition is None:
            return {"url": self.file.url, "width": self.width, "height": self.height}
        return {**rendition, "url": self.url_for(rendition)}

    @property
    def markdown(self):
        """What an author pastes into a post to show this picture."""
        alt = self.alt_text.replace("[", "(").replace("]", ")")
        return f"![{alt}]({self.default_url})"


class PostQuerySet(models.QuerySet):
    def published(self):
        """What the public may see: published, and not scheduled for later."""
        return self.filter(status=Post.Status.PUBLISHED, published_at__lte=timezone.now())

    @staticmethod
    def published_sql(alias):
        """The rule of `published()` for SQL written by hand (posts/pagedata.py), about the
        posts table under `alias`: (condition with two placeholders, a function giving
        their values now, as the ORM would pass them)."""
        qn = connection.ops.quote_name
        status, at = (qn(Post._meta.get_field(name).column) for name in ("status", "published_at"))

        def params():
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            return [Post.Status.PUBLISHED.value, now]

        return f"{alias}.{status} = %s AND {alias}.{at} <= %s", params

    def editable_by(self, user):
        """The posts `user` may edit, publish, preview and delete: their own (as the author
        whose account they are), or every post for a superuser. There is no editor role yet:
        a blog of one councillor has one author; an editor is a superuser."""
        if user.is_superuser:
            return self
        if not user.is_authenticated:
            return self.none()
        return self.filter(author__user=user)

    def scheduled(self):
        """Published, but not until a time still to come."""
        return self.filter(status=Post.Status.PUBLISHED, published_at__gt=timezone.now())

    def between_local_dates(self, first, last):
        """Posts published from `first` up to (not including) `last`, in the site's time zone."""
        return self.filter(
            published_at__gte=_local_midnight(first), published_at__lt=_local_midnight(last)
        )

    def for_listing(self):
        """Everything a list of posts shows, fetched in a fixed number of queries.

        The body and the search document are left in the database: lists show the summary,
        and their categories but not their tags.
        """
        return (
            self.select_related("author", "image")
            .prefetch_related("categories")
            .defer("body", "body_html", "search_vector")
        )

    def months(self):
        """(first day of month, number of posts) pairs, newest first, in local time."""
        return (
            self.annotate(month=TruncMonth("published_at"))
            .values("month")
            .annotate(num_posts=Count("id"))
            .order_by("-month")
        )


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    class BodyFormat(models.TextChoices):
        MARKDOWN = "markdown", "Markdown"
        # Bodies imported from WordPress, whose HTML is not Markdown.
        HTML = "html", "HTML"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique_for_date="published_at",
        help_text="The last part of the post's address; unique for its publication date.",
    )
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="posts")
    body = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(BODY_MAX_LENGTH)],
        help_text="Markdown. Headings, lists, links, images, tables, quotes and code.",
    )
    body_format = models.CharField(
        max_length=10, choices=BodyFormat.choices, default=BodyFormat.MARKDOWN
    )
    body_html = models.TextField(blank=True, editable=False)
    excerpt = models.TextField(
        blank=True,
        max_length=1000,
        help_text="Shown in lists of posts. Left blank, the first paragraph is used.",
    )
    summary = models.TextField(blank=True, editable=False)
    # Plain text of the body, for search and its highlighted snippets.
    body_text = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        "publication date",
        null=True,
        blank=True,
        help_text="A date in the future schedules the post. Left blank, publishing sets it.",
    )
    sticky = models.BooleanField(default=False, help_text="Keep at the top of the home page.")
    image = models.ForeignKey(
        Image,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="posts",
        verbose_name="featured image",
    )
    image_alt = models.CharField(
        "featured image description",
        max_length=300,
        blank=True,
        help_text="Required with a featured image: what the picture shows.",
    )
    categories = models.ManyToManyField(Category, blank=True, related_name="posts")
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    comments_enabled = models.BooleanField(default=True)
    election_material = models.BooleanField(
        default=False,
        help_text="Material that promotes a candidate or party: the post carries the digital "
        "imprint (Elections Act 2022) at its foot, in feeds and in link previews. On by "
        "default for new posts during a pre-election period.",
    )
    seo_description = models.CharField(
        "search engine description",
        max_length=300,
        blank=True,
        help_text="Shown by search engines and link previews. Left blank, the excerpt is used.",
    )
    # Feed readers' identifier for the post: never changes, whatever is edited.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # PostgreSQL full-text search document (posts/search.py); unused on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When a correction was last added or withdrawn (None: never corrected): the post page
    # fetches corrections only for a post that has some.
    corrected_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "published_at"], name="post_status_published_idx"),
            models.Index(fields=["slug", "published_at"], name="post_slug_published_idx"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
            # Publishing now gives the post today's address, which another post may have.
            if self.slug and self._same_day_posts().filter(slug=self.slug).exists():
                self.slug = unique_slug(
                    Post, self.slug, exclude_pk=self.pk, extra=self._same_day_lookup()
                )
        if not self.slug:
            self.slug = unique_slug(
                Post, self.title, exclude_pk=self.pk, extra=self._same_day_lookup()
            )
        self.body_html = self.render_body(self.body, self.body_format)
        self.body_text = sanitiser.html_to_text(self.body_html)
        self.summary = self.excerpt.strip() or _words(
            sanitiser.first_paragraph_text(self.body_html), EXCERPT_WORDS
        )
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"title", "body", "excerpt"} & set(update_fields):
            from .search import index_after_commit  # search.py imports this module

            index_after_commit([self.pk])

    def get_absolute_url(self):
        if self.published_at is None:
            return reverse("posts:preview", kwargs={"pk": self.pk})
        return self._dated_address("posts:detail")

    def get_comments_feed_url(self):
        """The address of the feed of this post's comments (the post's own address, then
        `feed/`)."""
        return self._dated_address("post-comments-feed")

    def _dated_address(self, viewname):
        """The address of `viewname` for this post's London date and slug."""
        day = self.local_date
        return reverse(
            viewname,
            kwargs={"year": day.year, "month": day.month, "day": day.day, "slug": self.slug},
        )

    # The post's categories, tags and documents, as `.all()` gives them, from what was read
    # with the post: its page's data (posts/pagedata.py, `keep_lists()`) or
    # `prefetch_related()`; else from the database. The post's page shows each list in two or
    # three places, and each `post.categories.all` in a template makes a related manager and
    # a queryset first. (Its data keeps plain lists, not the querysets `prefetch_related()`
    # leaves: making those took about a twentieth of a first render, and they are slower to
    # unpickle from the cache.)
    @property
    def category_list(self):
        return _kept_or_all(self, "categories")

    @property
    def tag_list(self):
        return _kept_or_all(self, "tags")

    @property
    def attachment_list(self):
        return _kept_or_all(self, "attachments")

    def keep_lists(self, **lists):
        """Keep lists of the post's categories, tags or documents read with it, by the
        relation's name: what `category_list`, `tag_list` and `attachment_list` give."""
        self._lists = lists

    @classmethod
    def render_body(cls, body, body_format):
        """A body's safe HTML by its format (Markdown, or imported HTML): the one choice of
        renderer, for the saved post and the editor's preview alike."""
        if body_format == cls.BodyFormat.HTML:
            return sanitiser.render_html(body)
        return sanitiser.render_markdown(body)

    def clean(self):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            # Publishing without a date means now: fill it in (local time, as the form
            # would) so the slug's unique-for-date check covers today's posts.
            self.published_at = timezone.localtime()
        errors = {}
        if self.image_id and not self.image_alt.strip():
            errors["image_alt"] = "Describe the featured image for people who cannot see it."
        if self.election_material and not SiteSettings.current().imprint:
            errors["election_material"] = (
                "Election material must carry a digital imprint: fill in the promoter's name "
                "and address under Site settings first."
            )
        if errors:
            raise ValidationError(errors)

    def _same_day_lookup(self):
        """Lookups for posts whose address has the same date as this one's."""
        day = self.local_date
        if day is None:
            return {"published_at__isnull": True}
        return {
            "published_at__year": day.year,
            "published_at__month": day.month,
            "published_at__day": day.day,
        }

    def _same_day_posts(self):
        return Post._default_manager.filter(**self._same_day_lookup()).exclude(pk=self.pk)

    @property
    def local_date(self):
        """The publication date in the site's time zone (the date in the post's address)."""
        return timezone.localtime(self.published_at).date() if self.published_at else None

    def is_editable_by(self, user):
        """The rule of `Post.objects.editable_by()`, for one post in hand."""
        if user.is_superuser:
            return True
        return user.is_authenticated and self.author.user_id == user.pk

    def is_published(self):
        """True when the public may see the post (the same rule as `published()`)."""
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self):
        """True when `scheduled()` would include the post."""
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at > timezone.now()
        )

    @property
    def state_label(self):
        if self.is_scheduled:
            return "Scheduled"
        return self.get_status_display()

    def publish(self, when=None):
        """Make the post public now, or at `when` (a future time schedules it)."""
        self.status = self.Status.PUBLISHED
        if when is not None:
            self.published_at = when
        self.save()  # which dates it now if it has no date, keeping its address unique

    def unpublish(self):
        """Take the post back to draft; its publication date is kept for its address."""
        self.status = self.Status.DRAFT
        self.save(update_fields=["status", "updated_at"])

    def get_previous_published(self):
        return (
            Post.objects.published()
            .filter(
                Q(published_at__lt=self.published_at)
                | Q(published_at=self.published_at, pk__lt=self.pk)
            )
            .order_by("-published_at", "-pk")
            .only("title", "slug", "published_at")
            .first()
        )

    def get_next_published(self):
        return (
            Post.objects.published()
            .filter(
                Q(published_at__gt=self.published_at)
                | Q(published_at=self.published_at, pk__gt=self.pk)
            )
            .order_by("published_at", "pk")
            .only("title", "slug", "published_at")
            .first()
        )

    @property
    def plain_title(self):
        """The title with ordinary spaces: for the window title, feeds, link previews and
        JSON-LD. Authors may type a no-break space to keep words together in the heading;
        elsewhere it would reach readers and crawlers as a literal `&nbsp;`."""
        title = self.title
        for space in _NO_BREAK_SPACES:  # (not str.translate(), ten times slower here)
            title = title.replace(space, " ")
        return title

    @property
    def description(self):
        """One sentence or so for search engines and link previews."""
        return self.seo_description or self.summary

    def description_with(self, imprint):
        """The description, followed by the digital imprint when the post is election material
        (`imprint` is `SiteSettings.imprint`, fetched once by the caller)."""
        if self.election_material and imprint:
            return f"{self.description} {imprint}".strip()
        return self.description


# No-break, narrow no-break and figure spaces: typography for the visible heading only.
_NO_BREAK_SPACES = ("\u00a0", "\u202f", "\u2007")


def _kept_or_all(post, name):
    """What `getattr(post, name).all()` gives: the list kept with the post, the queryset
    `prefetch_related()` left (without making the related manager), or `.all()`."""
    kept = post.__dict__.get("_lists")
    if kept is not None and name in kept:
        return kept[name]
    cache = getattr(post, "_prefetched_objects_cache", None)
    if cache is not None and name in cache:
        return cache[name]
    return getattr(post, name).all()


def _local_midnight(date):
    return timezone.make_aware(datetime.datetime.combine(date, datetime.time.min))


def _words(text, limit):
    words = text.split()
    if len(words) <= limit:
        return text
    return " ".join(words[:limit]).rstrip(",;:") + "…"


class SiteSettings(models.Model):
    """Settings of the whole site edited in the admin (one row): the digital imprint.

    Since November 2023 the Elections Act 2022 (Part 6) requires digital election material
    to carry an imprint: the name and address of its promoter and of anyone on whose behalf
    it is published. Posts marked as election material show it at their foot, in their feed
    entries and in their link-preview description.
    """

    imprint_promoter = models.CharField("promoter’s name", max_length=200, blank=True)
    imprint_promoter_address = models.CharField(
        "promoter’s address",
        max_length=300,
        blank=True,
        help_text="A postal address, on one line: “12 High Street, Barnet EN5 5XX”.",
    )
    imprint_on_behalf_of = models.CharField(
        "published on behalf of",
        max_length=200,
        blank=True,
        help_text="The candidate or party the material is published for, if not the promoter.",
    )
    imprint_on_behalf_of_address = models.CharField("their address", max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "site settings"

    def __str__(self):
        return "Site settings"

    def clean(self):
        errors = {}
        for name in (
            "imprint_promoter",
            "imprint_promoter_address",
            "imprint_on_behalf_of",
            "imprint_on_behalf_of_address",
        ):
            if sanitiser.has_invisible_controls(getattr(self, name)):
                errors[name] = "Remove the invisible control characters from this text."
        if bool(self.imprint_promoter.strip()) != bool(self.imprint_promoter_address.strip()):
            errors["imprint_promoter_address"] = "An imprint names the promoter and their address."
        if bool(self.imprint_on_behalf_of.strip()) != bool(
            self.imprint_on_behalf_of_address.strip()
        ):
            errors["imprint_on_behalf_of_address"] = (
                "Give both the name and the address of the person the material is published for."
            )
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls):
        return cls.objects.first() or cls()

    @property
    def imprint(self):
        """The imprint as one line of plain text, or "" when no promoter is set.

        Worded as the Electoral Commission's guidance does: "Promoted by [name] of [address]
        on behalf of [name] of [address]".
        """
        promoter = sanitiser.plain_text(self.imprint_promoter)
        if not promoter:
            return ""
        text = f"Promoted by {promoter} of {sanitiser.plain_text(self.imprint_promoter_address)}"
        on_behalf_of = sanitiser.plain_text(self.imprint_on_behalf_of)
        if on_behalf_of:
            address = sanitiser.plain_text(self.imprint_on_behalf_of_address)
            text += f" on behalf of {on_behalf_of} of {address}"
        return text + "."


class ElectionPeriodQuerySet(models.QuerySet):
    def in_force(self):
        """The periods running now: from midnight (London time) at the start of their first
        day to midnight at the end of polling day."""
        today = timezone.localdate()
        return self.filter(starts_on__lte=today, polling_day__gte=today)

    def to_come(self):
        """Periods in force now or starting later, soonest first."""
        return self.filter(polling_day__gte=timezone.localdate()).order_by("starts_on")


class ElectionPeriod(models.Model):
    """A pre-election period ("purdah"): from its first day (usually the day the notice of
    election is published) to the end of polling day, the site shows a banner and applies
    a stricter comment policy. Both start and stop on their own: the page cache's deadline
    (`posts.signals.next_election_boundary`) ends every cached page at each boundary.

    It ends at midnight at the end of polling day, not the day after: polls close at 10pm,
    and the restraint the period asks for is about influencing the vote. The count and the
    result, the next day, are ordinary news.
    """

    class CommentPolicy(models.TextChoices):
        HOLD = "hold", "Hold every comment for a moderator"
        CLOSE = "close", "Close comments on posts published during the period"

    name = models.CharField(
        max_length=200, help_text="For example “Barnet Council elections, May 2026”."
    )
    starts_on = models.DateField(
        "first day",
        help_text="Usually the day the notice of election is published. The period starts "
        "at midnight, London time.",
    )
    polling_day = models.DateField(
        help_text="The period ends at midnight at the end of polling day, London time."
    )
    comment_policy = models.CharField(
        max_length=10, choices=CommentPolicy.choices, default=CommentPolicy.HOLD
    )
    banner = models.TextField(
        "banner text",
        max_length=500,
        help_text="Shown at the top of every page during the period, followed by a link to "
        "the page explaining the period. Markdown: emphasis and links.",
    )
    banner_html = models.TextField(blank=True, editable=False)
    explanation = models.TextField(
        blank=True,
        max_length=5000,
        help_text="What the period means for this blog, for the page the banner links to. "
        "Markdown: paragraphs, emphasis and links.",
    )
    explanation_html = models.TextField(blank=True, editable=False)

    objects = ElectionPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = "pre-election period"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.banner_html = sanitiser.render_short_markdown(self.banner)
        self.explanation_html = sanitiser.render_short_markdown(self.explanation)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("posts:election-period")

    def clean(self):
        errors = {}
        if self.starts_on and self.polling_day:
            if self.polling_day < self.starts_on:
                errors["polling_day"] = "Polling day cannot be before the first day."
            overlapping = (
                ElectionPeriod.objects.filter(
                    starts_on__lte=self.polling_day, polling_day__gte=self.starts_on
                )
                .exclude(pk=self.pk)
                .first()
            )
            if overlapping is not None:
                errors["starts_on"] = (
                    f"These dates overlap “{overlapping}”: one period at a time, so that "
                    "one comment policy applies."
                )
        for name in ("name", "banner", "explanation"):
            if sanitiser.has_invisible_controls(getattr(self, name)):
                errors[name] = "Remove the invisible control characters from this text."
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls):
        """The period in force now, or None: the one the banner shows, from the site's state
        (`pagedata.site()`, read once a request and kept with the page cache's data, whose
        generations its boundaries end), so most requests ask the database nothing."""
        from . import pagedata  # it reads these models

        return pagedata.site().election_period

    @property
    def starts_at(self):
        return _local_midnight(self.starts_on)

    @property
    def ends_at(self):
        return _local_midnight(self.polling_day + datetime.timedelta(days=1))

    def closes_comments_on(self, post):
        """Whether this period's policy closes comments on `post`."""
        return (
            self.comment_policy == self.CommentPolicy.CLOSE
            and post.published_at is not None
            and post.published_at >= self.starts_at
        )

    @property
    def holds_comments(self):
        return self.comment_policy == self.CommentPolicy.HOLD


class CorrectionQuerySet(models.QuerySet):
    def public(self):
        """Corrections of posts the public may see (withdrawn ones included: they are shown
        as withdrawn), newest first."""
        return self.filter(post__in=Post.objects.published()).order_by("-made_at", "-pk")


class Correction(models.Model):
    """A dated note correcting a published post, shown at its top and on /corrections/.

    A correction is never deleted (the admin offers no way to): it can be withdrawn, with a
    reason, and the public then sees it marked as withdrawn. A correction is a public
    statement; one that disappeared would be the silent edit corrections exist to prevent.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="corrections")
    text = models.TextField(
        "correction",
        max_length=2000,
        help_text="What was wrong and what is right: “The contract value is £750m, not "
        "£7.5m.” Markdown: emphasis and links. It cannot be edited once saved.",
    )
    text_html = models.TextField(blank=True, editable=False)
    made_at = models.DateTimeField("corrected on", default=timezone.now, editable=False)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField("withdrawn on", null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="+",
    )
    withdrawal_reason = models.CharField(
        "why it is withdrawn",
        max_length=500,
        blank=True,
        help_text="Shown with the withdrawn correction.",
    )
    # Feed readers' identifier for the correction.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    objects = CorrectionQuerySet.as_manager()

    class Meta:
        ordering = ["-made_at", "-pk"]
        indexes = [models.Index(fields=["made_at"], name="correction_made_idx")]

    def __str__(self):
        return f"Correction of {timezone.localtime(self.made_at):%d %B %Y}"

    def save(self, *args, **kwargs):
        self.text_html = sanitiser.render_short_markdown(self.text)
        super().save(*args, **kwargs)
        # The post has changed: its dateModified, its feed entry's updated date, sitemaps.
        now = timezone.now()
        Post.objects.filter(pk=self.post_id).update(updated_at=now, corrected_at=now)

    def get_absolute_url(self):
        return f"{self.post.get_absolute_url()}#correction-{self.pk}"

    def clean(self):
        errors = {}
        if self.post_id and not self.pk and not self.post.is_published():
            errors["text"] = "Only a published post takes corrections: edit a draft instead."
        if sanitiser.has_invisible_controls(self.text):
            errors["text"] = "Remove the invisible control characters from this text."
        if self.withdrawn_at and not self.withdrawal_reason.strip():
            errors["withdrawal_reason"] = "Say why the correction is withdrawn."
        if errors:
            raise ValidationError(errors)

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None

    def withdraw(self, reason, by=None):
        """Withdraw the correction, keeping it (shown as withdrawn, with `reason`)."""
        if not reason.strip():
            raise ValidationError({"withdrawal_reason": "Say why the correction is withdrawn."})
        self.withdrawn_at = timezone.now()
        self.withdrawn_by = by
        self.withdrawal_reason = reason.strip()
        self.save()


def attachment_upload_to(instance, filename):
    return f"attachments/{uuid.uuid4().hex[:12]}/{filename}"


class Attachment(models.Model):
    """A document a post refers to (the report, the minutes), listed under the post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=attachment_upload_to, max_length=255)
    kind = models.CharField("type", max_length=20, editable=False)
    size = models.PositiveBigIntegerField(editable=False, default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.file:
            self.size = self.file.size
            self.kind = ATTACHMENT_TYPES.get(_extension(self.file.name), ("", "File"))[1]
        super().save(*args, **kwargs)


def _extension(name):
    return os.path.splitext(name)[1].lower().lstrip(".")


# Documents a post may carry: extension -> (leading bytes that file must start with, label).
ATTACHMENT_TYPES = {
    "pdf": (b"%PDF-", "PDF"),
    "docx": (b"PK\x03\x04", "Word document"),
    "xlsx": (b"PK\x03\x04", "Excel spreadsheet"),
    "pptx": (b"PK\x03\x04", "PowerPoint presentation"),
    "odt": (b"PK\x03\x04", "OpenDocument text"),
    "ods": (b"PK\x03\x04", "OpenDocument spreadsheet"),
    "odp": (b"PK\x03\x04", "OpenDocument presentation"),
    "csv": (b"", "CSV data"),
    "txt": (b"", "Plain text"),
}
