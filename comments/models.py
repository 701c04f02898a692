"""Residents' comments on posts, their moderation, and likes.

The comment model extends django-comments-xtd's threaded `XtdComment` (its documented
extension point, `COMMENTS_XTD_MODEL`). A comment is in exactly one moderation queue:

- unconfirmed: waiting for its author to confirm their email address (not a queue);
- pending:  confirmed, held for a moderator (`is_public=False`);
- approved: public (`is_public=True`, `is_removed=False`);
- removed:  taken down by a moderator (`is_removed=True`). A removed comment that had been
  public keeps `is_public=True` so that its place in the thread, and its replies, stay: the
  public sees a placeholder naming the date and the house rule;
- spam:     `is_spam=True`, never shown.

Every decision goes through a named method (`approve`, `remove`, `mark_spam`, `restore`),
which records a `ModerationEvent`.
"""

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django_comments_xtd.models import XtdComment, XtdCommentManager

from core import sanitiser
from posts.models import Post

MODERATE_ANY = "comments.moderate_any_comment"
MODERATE_OWN = "comments.moderate_comment"


def display_name(user):
    """How an account signs its comments and decisions: full name, else username."""
    return user.get_full_name() or user.get_username()


def moderates_comments(user):
    """Whether `user` has a moderation queue at all (their own posts', or everyone's)."""
    return user.has_perm(MODERATE_ANY) or user.has_perm(MODERATE_OWN)


class HouseRule(models.Model):
    """A numbered rule for comments, cited when a comment is removed.

    The house rules page lists these rows (number, title and text): they are the one source
    of the rules, edited in the admin, so the page and the removal notices always agree.
    """

    number = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=100)
    text = models.TextField(
        blank=True,
        max_length=1000,
        help_text="What the rule means, in plain text, as the house rules page shows it.",
    )

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"Rule {self.number}: {self.title}"

    def get_absolute_url(self):
        return f"{reverse('house-rules')}#rule-{self.number}"


class CommentQuerySet(models.QuerySet):
    def for_post(self, post):
        return self.filter(
            content_type=ContentType.objects.get_for_model(Post),
            object_pk=str(post.pk),
            site_id=settings.SITE_ID,
        )

    def moderatable_by(self, user):
        """The comments `user` may see and moderate (least privilege):

        - `comments.moderate_any_comment` (the Moderators group, superusers): every comment;
        - `comments.moderate_comment` only (the Authors group): comments on their own posts;
        - anyone else: none, whatever model permissions they hold.
        """
        if user.has_perm(MODERATE_ANY):
            return self
        if not user.has_perm(MODERATE_OWN):
            return self.none()
        # Comments point at posts by a string primary key (a generic relation).
        own_posts = (
            Post.objects.filter(author__user=user)
            .annotate(pk_text=Cast("pk", models.CharField()))
            .values("pk_text")
        )
        return self.filter(
            content_type=ContentType.objects.get_for_model(Post), object_pk__in=own_posts
        )

    def public(self):
        """What everyone may read (and what "N Responses" counts)."""
        return self.filter(is_public=True, is_removed=False, is_spam=False)

    def in_threads(self):
        """Public comments, plus removed ones that hold their replies' place."""
        return self.filter(is_public=True, is_spam=False)

    def pending(self):
        """Confirmed comments held for a moderator: the Pending queue."""
        return self.filter(is_public=False, is_removed=False, is_spam=False, confirmed=True)

    def unconfirmed(self):
        return self.filter(confirmed=False, is_removed=False, is_spam=False)

    def approved(self):
        return self.public()

    def spam(self):
        return self.filter(is_spam=True)

    def removed(self):
        return self.filter(is_removed=True, is_spam=False)

    def visible_to(self, own_ids):
        """Thread comments plus the viewer's own comments still awaiting moderation."""
        own = Q(pk__in=list(own_ids)) & Q(is_removed=False, is_spam=False)
        return self.filter(Q(is_public=True, is_spam=False) | own)


class CommentManager(XtdCommentManager.from_queryset(CommentQuerySet)):
    def build_for(self, post, parent=None, *, user=None, **fields):
        """A new, unsaved comment on `post`: the only place a comment is assembled.

        `parent` makes it a reply, attached where `parent.reply_parent()` says (replies past
        the thread's depth attach at the deepest level). With a `user`, the comment is signed
        with their name and email unless `fields` say otherwise.
        """
        if user is not None:
            name_length = self.model._meta.get_field("user_name").max_length
            fields.setdefault("user_name", display_name(user)[:name_length])
            fields.setdefault("user_email", user.email)
        if parent is not None:
            parent = parent.reply_parent()
        return self.model(
            content_type=ContentType.objects.get_for_model(Post),
            object_pk=str(post.pk),
            site_id=settings.SITE_ID,
            parent_id=parent.pk if parent is not None else 0,
            user=user,
            **fields,
        )


class Comment(XtdComment):
    # Named explicitly: the default reverse name would clash with the `comment` text field.
    xtdcomment_ptr = models.OneToOneField(
        XtdComment,
        parent_link=True,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="extended",
    )
    comment_html = models.TextField(blank=True, editable=False)
    confirmed = models.BooleanField(
        default=True, help_text="False until the commenter confirms their email address."
    )
    is_spam = models.BooleanField("spam", default=False)
    held_reason = models.CharField("why it was held", max_length=300, blank=True)
    removal_rule = models.ForeignKey(
        HouseRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)

    objects = CommentManager()

    class Meta:
        ordering = ["thread_id", "order"]
        permissions = [
            ("moderate_comment", "Can moderate comments on their own posts"),
            ("moderate_any_comment", "Can moderate comments on any post"),
        ]
        indexes = [models.Index(fields=["is_spam", "confirmed"], name="comment_queue_idx")]

    def __str__(self):
        return f"{self.name}: {self.comment[:50]}"

    def save(self, *args, **kwargs):
        self.comment_html = sanitiser.render_comment(self.comment)
        super().save(*args, **kwargs)

    def get_absolute_url(self, anchor_pattern="#comment-%(id)s"):
        return reverse("comments:permalink", kwargs={"pk": self.pk})

    @property
    def queue(self):
        if self.is_spam:
            return "spam"
        if self.is_removed:
            return "removed"
        if not self.confirmed:
            return "unconfirmed"
        return "approved" if self.is_public else "pending"

    @property
    def is_visible(self):
        return self.is_public and not self.is_removed and not self.is_spam

    def is_moderatable_by(self, user):
        """The rule of `Comment.objects.moderatable_by()`, for one comment in hand."""
        if user.has_perm(MODERATE_ANY):
            return True
        if not user.has_perm(MODERATE_OWN):
            return False
        post = self.content_object
        return isinstance(post, Post) and post.author.user_id == user.pk

    # Replies

    def reply_parent(self):
        """Where a reply to this comment attaches: this comment, or, when it is already at
        the thread's deepest level, its nearest ancestor that leaves room for one more."""
        parent = self
        max_level = settings.COMMENTS_XTD_MAX_THREAD_LEVEL
        while parent.level >= max_level and parent.parent_id != parent.pk:
            parent = Comment.objects.get(pk=parent.parent_id)
        return parent

    def why_no_replies(self):
        """Why nobody may reply to this comment now, or "" when they may."""
        if self.queue in ("removed", "spam"):
            return f"This comment is {'spam' if self.is_spam else 'removed'}: no replies."
        if not self.is_visible:
            return "You can reply once the comment is approved."
        post = self.content_object
        if not isinstance(post, Post) or not comments_open(post):
            return "Comments are closed on this post."
        return ""

    # State changes: each records who did what and why.

    def approve(self, by=None, note=""):
        was_public = self.is_visible
        self._change(
            ModerationEvent.Action.APPROVED,
            by,
            note,
            is_public=True,
            is_removed=False,
            is_spam=False,
            confirmed=True,
        )
        return not was_public  # True when it has just become public

    def hold(self, reason):
        self._change(ModerationEvent.Action.HELD, None, reason, is_public=False, held_reason=reason)

    def remove(self, rule, by=None, note=""):
        """Take the comment down under a house rule; its replies stay in the thread."""
        self._change(
            ModerationEvent.Action.REMOVED,
            by,
            note or str(rule),
            is_removed=True,
            removal_rule=rule,
        )

    def mark_spam(self, by=None, note=""):
        self._change(ModerationEvent.Action.SPAM, by, note, is_spam=True, is_public=False)

    def restore(self, by=None, note=""):
        """Undo a removal or a spam verdict; returns True when the comment became public.

        A removed comment goes back to where it was (public, or pending if it was removed
        from the Pending queue); a comment wrongly marked as spam is published.
        """
        was_public = self.is_visible
        public = self.is_public or self.is_spam
        self._change(
            ModerationEvent.Action.RESTORED,
            by,
            note,
            is_spam=False,
            is_removed=False,
            is_public=public,
            removal_rule=None,
            confirmed=True,
        )
        return self.is_visible and not was_public

    def _change(self, action, by, note, **fields):
        with transaction.atomic():
            for name, value in fields.items():
                setattr(self, name, value)
            self.moderated_at = timezone.now()
            self.save(update_fields=[*fields, "moderated_at", "comment_html"])
            ModerationEvent.objects.create(comment=self, action=action, actor=by, note=note)


class ModerationEvent(models.Model):
    """One moderation decision: who, when, what, why. Automatic rules have no actor."""

    class Action(models.TextChoices):
        POSTED = "posted", "Posted"
        CONFIRMED = "confirmed", "Email confirmed"
        HELD = "held", "Held for moderation"
        APPROVED = "approved", "Approved"
        REMOVED = "removed", "Removed"
        SPAM = "spam", "Marked as spam"
        RESTORED = "restored", "Restored"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        who = self.actor or "automatic rule"
        return f"{self.get_action_display()} by {who} on {self.at:%d %b %Y %H:%M}"


class ModerationSettings(models.Model):
    """The discussion rules, edited in the admin (one row), like WordPress's Discussion page."""

    class Mode(models.TextChoices):
        ALL = "all", "Hold every comment for a moderator"
        FIRST_TIME = "first_time", "Hold comments from people without an approved comment"
        NONE = "none", "Publish comments straight away (rules below still apply)"

    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.FIRST_TIME)
    hold_links = models.PositiveSmallIntegerField(
        "hold comments with this many links or more", default=2
    )
    moderation_words = models.TextField(
        blank=True,
        help_text="One word or phrase per line. A comment containing one in its text, name, "
        "email, website or IP address is held for a moderator.",
    )
    disallowed_words = models.TextField(
        blank=True,
        help_text="One word or phrase per line. A comment containing one is marked as spam.",
    )
    close_after_days = models.PositiveSmallIntegerField(
        "close comments on posts older than (days)",
        null=True,
        blank=True,
        help_text="Leave blank to keep comments open.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "discussion settings"

    def __str__(self):
        return "Discussion settings"

    @classmethod
    def current(cls):
        return cls.objects.first() or cls()

    @staticmethod
    def words(text):
        return [line.strip().lower() for line in text.splitlines() if line.strip()]


def comments_open(post, rules=None):
    """Whether `post` takes new comments: enabled for it, and not closed by age."""
    if not post.comments_enabled or not post.is_published():
        return False
    rules = rules or ModerationSettings.current()
    if rules.close_after_days is not None:
        closes = post.published_at + datetime.timedelta(days=rules.close_after_days)
        if timezone.now() >= closes:
            return False
    return True


class PostLike(models.Model):
    """One person's like of a post: per account, or per browser (a signed random cookie)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    visitor = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post", "user"], condition=Q(user__isnull=False), name="one_like_per_user"
            ),
            models.UniqueConstraint(
                fields=["post", "visitor"], condition=~Q(visitor=""), name="one_like_per_browser"
            ),
        ]

    def __str__(self):
        return f"Like of {self.post_id}"
