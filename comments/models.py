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

import calendar
import datetime
import hashlib
import itertools

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connections, models, transaction
from django.db.models import AutoField, Q
from django.db.models.functions import Cast, Lower
from django.utils import timezone
from django_comments_xtd.models import (
    MaxThreadLevelExceededException,
    XtdComment,
    XtdCommentManager,
    max_thread_level_for_content_type,
)

from core import sanitiser
from core.reversing import reverse
from posts.models import ElectionPeriod, Post

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

    def reported(self):
        """Comments with reports no moderator has answered yet: the Reported queue."""
        return self.filter(
            id__in=ReportCase.objects.filter(closed_at__isnull=True).values("comment_id")
        )


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
        comment = self.model(
            content_type=ContentType.objects.get_for_model(Post),
            object_pk=str(post.pk),
            site_id=settings.SITE_ID,
            parent_id=parent.pk if parent is not None else 0,
            user=user,
            **fields,
        )
        if parent is not None:
            # The parent in hand, perhaps not saved yet (`bulk_add` saves both together);
            # `save()` recomputes the level from the database as django-comments-xtd does.
            comment.replying_to = parent
            comment.level = parent.level + 1
        # `comment.content_object` is `post`: no query to fetch it again.
        self.model._meta.get_field("content_object").set_cached_value(comment, post)
        return comment

    def bulk_add(self, comments, batch_size=500):
        """Save new comments made by `build_for()` in a few queries per batch (an import).

        A reply's parent may be one of `comments` built before it (so parents come first in
        the list) or a comment already saved. Each table of the model is written in turn
        (django-contrib-comments' row, django-comments-xtd's, ours), and xtd's thread fields
        are computed here exactly as `XtdComment.save()` computes them one reply at a time:
        `order` runs through each thread depth first, replies after their elder siblings, and
        `nested_count` counts every descendant. Replies in threads that began earlier are
        saved one by one, by `save()`. No signals are sent: the caller invalidates the pages
        (and sends no email, as `save()` sends none either).
        """
        comments = list(comments)
        one_by_one, new_threads, children = [], [], {}
        slow = set()
        for comment in comments:
            if comment.pk is not None:
                raise ValueError("bulk_add() saves new comments only.")
            comment.comment_html = sanitiser.render_comment(comment.comment)
            if comment.submit_date is None:
                comment.submit_date = timezone.now()
            parent = getattr(comment, "replying_to", None)
            if parent is None and not comment.parent_id:
                new_threads.append(comment)
                children[id(comment)] = []
            elif parent is not None and id(parent) in children:
                children[id(parent)].append(comment)
                children[id(comment)] = []
            else:  # a reply in a thread already saved, or to one of those replies
                one_by_one.append(comment)
                slow.add(id(comment))
        fast = [c for c in comments if id(c) not in slow]
        self._insert_tables(fast, batch_size)
        for root in new_threads:
            _number_thread(root, children)
        self._insert_tables(fast, batch_size, thread_data=True)
        for comment in one_by_one:
            parent = getattr(comment, "replying_to", None)
            if parent is not None:
                comment.parent_id = parent.pk
            comment.save()
        return comments

    def _insert_tables(self, comments, batch_size, thread_data=False):
        """First pass: django-contrib-comments' rows, which give the ids. Second pass, with
        the thread fields known: django-comments-xtd's rows and ours."""
        if not comments:
            return
        db = self.db
        base = self.model._meta.get_parent_list()[-1]  # django_comments.Comment
        for model in [XtdComment, self.model] if thread_data else [base]:
            fields = [f for f in model._meta.local_concrete_fields if not isinstance(f, AutoField)]
            size = max(1, min(batch_size, connections[db].ops.bulk_batch_size(fields, comments)))
            for start in range(0, len(comments), size):
                batch = comments[start : start + size]
                if thread_data:
                    model._base_manager.using(db)._insert(batch, fields=fields, using=db)
                    continue
                rows = model._base_manager.using(db)._insert(
                    batch, fields=fields, using=db, returning_fields=[model._meta.pk]
                )
                for comment, (pk,) in zip(batch, rows, strict=True):
                    comment.id = comment.comment_ptr_id = comment.xtdcomment_ptr_id = pk
                    comment._state.adding, comment._state.db = False, db


def _number_thread(root, children):
    """django-comments-xtd's thread fields for a new thread in memory (see `bulk_add`)."""
    order = itertools.count(1)

    def visit(comment, parent, level):
        comment.thread_id = root.pk
        comment.parent_id = parent.pk if parent is not None else comment.pk
        comment.level = level
        comment.order = next(order)
        comment.nested_count = 0
        for child in children[id(comment)]:
            comment.nested_count += 1 + visit(child, comment, level + 1)
        return comment.nested_count

    visit(root, None, 0)


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
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the commenter had it deleted: its replies keep their place, and "
        "nothing of its author or text is kept.",
    )
    # What makes two submissions the same comment (`same_comment_key()`): the database
    # refuses a second copy, however many requests race. Blank for comments that were not
    # submitted through the form (staff replies, imports) and for removed ones.
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    objects = CommentManager()

    class Meta:
        ordering = ["thread_id", "order"]
        permissions = [
            ("moderate_comment", "Can moderate comments on their own posts"),
            ("moderate_any_comment", "Can moderate comments on any post"),
        ]
        indexes = [models.Index(fields=["is_spam", "confirmed"], name="comment_queue_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"], condition=~Q(fingerprint=""), name="one_comment_per_key"
            )
        ]

    def __str__(self):
        return f"{self.name}: {self.comment[:50]}"

    def save(self, *args, **kwargs):
        self.comment_html = sanitiser.render_comment(self.comment)
        if self.pk is None and not kwargs.get("update_fields"):
            self._insert(*args, **kwargs)
        else:
            super().save(*args, **kwargs)

    def _insert(self, *args, **kwargs):
        """Insert a new comment's three rows (django_comments, xtd, ours) once.

        `XtdComment.save()` inserts them and then saves all three again to set the thread
        fields. Here a reply's place in its thread is worked out before the insert (its
        parent is known), and a new thread's root, whose thread and parent are its own id,
        sets them with one UPDATE of xtd's row.
        """
        with transaction.atomic(savepoint=False):
            if self.parent_id:
                if not max_thread_level_for_content_type(self.content_type):
                    raise MaxThreadLevelExceededException(self)
                self._calculate_thread_data()
            # django_comments' save (it dates the comment), skipping XtdComment.save.
            super(XtdComment, self).save(*args, **kwargs)
            if not self.parent_id:
                self.parent_id = self.thread_id = self.pk
                XtdComment.norel_objects.filter(pk=self.pk).update(
                    parent_id=self.pk, thread_id=self.pk
                )

    def get_absolute_url(self, anchor_pattern="#comment-%(id)s"):
        return reverse("comments:permalink", kwargs={"pk": self.pk})

    def same_comment_key(self):
        """What makes a submission a copy of one already posted: the same post, the same
        commenter (their email, or their account when it has none) and the same text. A
        double click, a retried request or the back button all post such a copy."""
        who = self.user_email.strip().lower() or f"account:{self.user_id}"
        parts = [str(self.content_type_id), self.object_pk, str(self.site_id), who, self.comment]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

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
        while parent.level >= max_level:
            above = getattr(parent, "replying_to", None)  # in hand (perhaps not saved yet)
            if above is None:
                if not parent.parent_id or parent.parent_id == parent.pk:
                    break
                above = Comment.objects.get(pk=parent.parent_id)
            parent = above
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
            made_public=not was_public,
            is_public=True,
            is_removed=False,
            is_spam=False,
            confirmed=True,
        )
        return not was_public  # True when it has just become public

    def hold(self, reason):
        self._change(ModerationEvent.Action.HELD, None, reason, is_public=False, held_reason=reason)

    def remove(self, rule, by=None, note=""):
        """Take the comment down under a house rule (or none, for a defamation complaint's
        outcome); its replies stay in the thread."""
        self._change(
            ModerationEvent.Action.REMOVED,
            by,
            note or (str(rule) if rule else ""),
            is_removed=True,
            removal_rule=rule,
            fingerprint="",  # the commenter may post the same words again
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
            made_public=public and not was_public,
            is_spam=False,
            is_removed=False,
            is_public=public,
            removal_rule=None,
            confirmed=True,
        )
        return self.is_visible and not was_public

    def last_decision(self):
        """The moderator's (or rule's) latest decision on this comment: what a review asks
        about, and what an outcome email reports."""
        decisions = self.events.filter(action__in=ModerationEvent.DECISIONS)
        return decisions.order_by("-at", "-pk").first()

    def _change(self, action, by, note, made_public=False, **fields):
        if self.erased_at is not None:
            raise PermissionDenied("This comment was deleted at the commenter’s request.")
        with transaction.atomic():
            for name, value in fields.items():
                setattr(self, name, value)
            self.moderated_at = timezone.now()
            self.save(update_fields=[*fields, "moderated_at", "comment_html"])
            rule = fields.get("removal_rule") if action == ModerationEvent.Action.REMOVED else None
            event = ModerationEvent.objects.create(
                comment=self,
                action=action,
                actor=by,
                note=note[:500],
                rule=rule,
                made_public=made_public,
            )
            # A decision settles the reports on the comment: they were answered by it, and
            # the readers who reported it (if they gave an email) are told the outcome.
            if action in ModerationEvent.DECISIONS:
                cases = self.report_cases.filter(closed_at__isnull=True)
                closed = list(cases.values_list("pk", flat=True))
                cases.update(closed_at=event.at, closed_by=by, outcome=action)
                if closed:
                    from .moderation_services import notify_reporters  # services import models

                    transaction.on_commit(lambda: notify_reporters(closed))
            return event


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
        REPORTED = "reported", "Reported by a reader"
        REPORTS_DISMISSED = "reports_dismissed", "Reports dismissed"
        REVIEW_REQUESTED = "review_requested", "Review requested"
        REVIEW_UPHELD = "review_upheld", "Review: decision upheld"
        REVIEW_OVERTURNED = "review_overturned", "Review: decision overturned"
        COMPLAINT_RECEIVED = "complaint", "Defamation complaint received"
        POSTER_NOTIFIED = "poster_notified", "Poster sent the notice of complaint"
        POSTER_RESPONDED = "poster_responded", "Poster answered the complaint"
        COMPLAINT_CLOSED = "complaint_closed", "Defamation complaint closed"
        ERASED = "erased", "Deleted at the commenter’s request"

    # What a moderator (or a discussion rule) decides about a comment: a review can ask
    # for these to be looked at again (a hold is not a decision: the comment waits).
    DECISIONS = (Action.APPROVED, Action.REMOVED, Action.SPAM, Action.RESTORED)

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
    rule = models.ForeignKey(
        HouseRule,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The house rule a removal cited (the public record counts removals by rule).",
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    made_public = models.BooleanField(
        default=False,
        help_text="An approval or restore that put the comment in public view: the public "
        "record counts it as published.",
    )

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["action", "at"], name="event_action_at_idx")]

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
    hold_after_reports = models.PositiveSmallIntegerField(
        "hold a public comment once this many different readers report it",
        null=True,
        blank=True,
        help_text="Leave blank (the default) to leave reported comments up until a "
        "moderator decides.",
    )
    email_spam_decisions = models.BooleanField(
        "tell commenters when their comment is marked as spam",
        default=False,
        help_text="Off by default: spammers gain nothing from hearing they were caught.",
    )
    digest_sent_at = models.DateTimeField(
        "moderation digest last sent",
        null=True,
        blank=True,
        editable=False,
        help_text="`moderation_digest` sends at most one digest a day: it records when here.",
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


# `comments_open(post, period=...)` when the caller has already looked the period up.
_LOOK_UP = object()


def comments_open(post, rules=None, period=_LOOK_UP):
    """Whether `post` takes new comments: enabled for it, not closed by age, and not closed
    by a pre-election period (`period`: the `ElectionPeriod` in force, or None, when the
    caller has it already)."""
    if not post.comments_enabled or not post.is_published():
        return False
    if period is _LOOK_UP:
        period = ElectionPeriod.current()
    if period is not None and period.closes_comments_on(post):
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


# Reports, reviews and defamation complaints: the public's side of moderation.


class ReportCase(models.Model):
    """Every open report of one comment, gathered for one decision (the Reported queue).

    A moderator's decision on the comment (approve, remove, spam, restore) closes the case;
    "dismiss" closes it leaving the comment as it is. A later report opens a new case.
    """

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="report_cases")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment"], condition=Q(closed_at__isnull=True), name="one_open_case"
            )
        ]
        indexes = [models.Index(fields=["closed_at", "opened_at"], name="case_open_idx")]

    def __str__(self):
        return f"Reports of comment {self.comment_id}"

    @property
    def is_open(self):
        return self.closed_at is None


class Report(models.Model):
    """One reader's report of a comment. The reporter's email is for a moderator's reply
    only: it is never shown publicly, and `reporter_key` (a keyed hash of their email or
    connection) tells distinct reporters apart without keeping their address twice."""

    class Reason(models.TextChoices):
        HOUSE_RULE = "rule", "It breaks a house rule"
        SPAM = "spam", "It is spam"
        PERSONAL = "personal", "It gives someone’s personal information"
        DEFAMATORY = "defamatory", "It may be defamatory"
        OTHER = "other", "Something else"

    case = models.ForeignKey(ReportCase, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    rule = models.ForeignKey(HouseRule, null=True, blank=True, on_delete=models.SET_NULL)
    explanation = models.TextField(blank=True, max_length=1000)
    email = models.EmailField(blank=True)
    reporter_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One report per reader per case: a double click, or the same reader again
            # before a moderator answers, adds nothing.
            models.UniqueConstraint(fields=["case", "reporter_key"], name="one_report_per_reader")
        ]

    def __str__(self):
        return f"{self.get_reason_display()} ({self.created_at:%d %b %Y})"


class Review(models.Model):
    """A commenter's request to look again at a decision on their comment (an appeal).

    It is decided by a moderator other than the one who took the decision, who may
    moderate the comment (an Author only on their own posts): `Review.decide()` enforces it.
    """

    class Outcome(models.TextChoices):
        WAITING = "waiting", "Waiting for a moderator"
        UPHELD = "upheld", "Decision upheld"
        OVERTURNED = "overturned", "Decision overturned"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reviews")
    decision = models.ForeignKey(
        ModerationEvent,
        on_delete=models.CASCADE,
        related_name="reviews",
        help_text="The decision the commenter asks to be looked at again.",
    )
    reasons = models.TextField(max_length=2000)
    requested_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.WAITING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("note to the commenter", max_length=500, blank=True)

    class Meta:
        ordering = ["requested_at"]
        constraints = [models.UniqueConstraint(fields=["decision"], name="one_review_per_decision")]

    def __str__(self):
        return f"Review of comment {self.comment_id}"

    @property
    def is_waiting(self):
        return self.outcome == self.Outcome.WAITING

    def why_not_decidable_by(self, user):
        """Why `user` may not decide this review, or "" when they may."""
        if not self.is_waiting:
            return "This review has already been decided."
        if not self.comment.is_moderatable_by(user):
            return "You may not moderate this comment."
        if self.decision.actor_id == user.pk:
            return "You took the decision under review: another moderator must review it."
        return ""

    def decide(self, outcome, by, note=""):
        """Record the review's outcome. Overturning undoes the decision (`restore` for a
        removal or spam verdict); the caller (`moderation_services.decide_review`) tells the
        commenter."""
        problem = self.why_not_decidable_by(by)
        if problem:
            raise PermissionDenied(problem)
        with transaction.atomic():
            self.outcome, self.decided_at, self.decided_by, self.note = (
                outcome,
                timezone.now(),
                by,
                note,
            )
            self.save()
            action = (
                ModerationEvent.Action.REVIEW_UPHELD
                if outcome == self.Outcome.UPHELD
                else ModerationEvent.Action.REVIEW_OVERTURNED
            )
            ModerationEvent.objects.create(comment=self.comment, action=action, actor=by, note=note)


class DefamationComplaint(models.Model):
    """A notice of complaint under s.5 of the Defamation Act 2013 and the Defamation
    (Operators of Websites) Regulations 2013 (SI 2013/3028); `comments/defamation.py` holds
    the steps and their clocks, with the provisions they come from."""

    class Status(models.TextChoices):
        NOTICE_DUE = "notice_due", "Poster to be notified"
        AWAITING_POSTER = "awaiting_poster", "Waiting for the poster’s answer"
        REMOVED = "removed", "Closed: comment removed"
        KEPT = "kept", "Closed: poster stands by the comment"

    OPEN = (Status.NOTICE_DUE, Status.AWAITING_POSTER)

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="complaints")
    # Section 5(6)(a)-(c) and regulation 2 of SI 2013/3028.
    name = models.CharField("complainant’s name", max_length=200)
    email = models.EmailField("complainant’s email")
    meaning = models.TextField("meaning the complainant gives the comment", max_length=3000)
    why_defamatory = models.TextField("why it is defamatory of the complainant", max_length=3000)
    inaccurate = models.TextField(
        "what is factually inaccurate, or opinion not supported by fact", max_length=3000
    )
    cannot_identify_poster = models.BooleanField(
        "complainant lacks enough information about the poster to sue them"
    )
    share_name = models.BooleanField("poster may be told the complainant’s name", default=False)
    share_email = models.BooleanField("poster may be told the complainant’s email", default=False)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        default=Status.NOTICE_DUE,
        help_text="The poster must be sent the notice within 48 hours of its receipt, leaving "
        "out weekends and bank holidays (SI 2013/3028, reg. 1(3) and the Schedule).",
    )
    poster_notified_at = models.DateTimeField(null=True, blank=True)
    poster_deadline = models.DateTimeField(
        "poster’s deadline to answer",
        null=True,
        blank=True,
        help_text="Midnight at the end of the fifth day after the notice was sent (Schedule "
        "to SI 2013/3028). Without an answer, or with a refusal lacking a full name and "
        "postal address, the comment must be removed within 48 hours of this.",
    )
    poster_answered_at = models.DateTimeField(null=True, blank=True)
    poster_name = models.CharField(max_length=200, blank=True)
    poster_address = models.TextField(max_length=1000, blank=True)
    poster_shares_details = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at"]
        permissions = [("handle_complaint", "Can handle defamation complaints")]
        constraints = [
            # A complainant has one open complaint about a comment: sending the form twice
            # (a double click, a retry) does not start the statutory steps twice.
            models.UniqueConstraint(
                Lower("email"),
                "comment",
                condition=Q(status__in=["notice_due", "awaiting_poster"]),
                name="one_open_complaint_per_complainant",
            )
        ]

    def __str__(self):
        return f"Complaint by {self.name} about comment {self.comment_id}"

    @property
    def is_open(self):
        return self.status in self.OPEN

    @property
    def poster_last_day(self):
        """The last day the poster may answer (their deadline is midnight at its end)."""
        from .defamation import last_day_to_answer

        return last_day_to_answer(self.poster_deadline) if self.poster_deadline else None


# Residents' data rights (UK GDPR): the self-service links, and the controller's log.


def months_after(moment, months):
    """The same local date `months` calendar months after `moment` (the last day of the month
    when that month is shorter), at the end of that day: how the ICO counts "one month"."""
    local = timezone.localtime(moment)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    day = datetime.date(year, month, min(local.day, last_day))
    end = datetime.datetime.combine(day, datetime.time(23, 59, 59))
    return timezone.make_aware(end, timezone.get_current_timezone())


class DataLinkQuerySet(models.QuerySet):
    def for_email(self, email):
        return self.filter(email=email.strip().lower())


class DataLink(models.Model):
    """A signed, time-limited, single-use link to "Your comments and your data", emailed to
    whoever asks for one. Opening it (a POST: mail scanners only fetch) spends the link and
    starts a short session in that browser. Only hashes of the secrets are kept; the address
    is deleted with the row by `purge_comment_data` once the link and its session are over."""

    email = models.EmailField()
    secret_hash = models.CharField(max_length=64, editable=False)
    session_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = DataLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["email", "created_at"], name="datalink_email_idx")]

    def __str__(self):
        return f"Data link {self.pk} ({self.created_at:%d %b %Y %H:%M})"


class DataRequest(models.Model):
    """A request by a commenter about their personal data, for the controller's records.

    Self-service downloads and deletions are logged here as they happen; requests that arrive
    any other way (email, letter, in person) are recorded by hand and answered with the admin
    actions, which do what the self-service page does."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Copy of their data (access or portability)"
        ERASURE = "erasure", "Erasure"
        STOP_EMAILS = "stop_emails", "Stop follow-up emails (objection)"
        RECTIFICATION = "rectification", "Correction"
        OTHER = "other", "Other"

    class Route(models.TextChoices):
        SELF_SERVICE = "self_service", "Self-service page"
        EMAIL = "email", "Email"
        POST = "post", "Letter"
        PHONE = "phone", "Telephone"
        IN_PERSON = "in_person", "In person"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    route = models.CharField(max_length=20, choices=Route.choices, default=Route.EMAIL)
    email = models.EmailField(
        "commenter’s email",
        blank=True,
        help_text="The address their comments were made with. Deleted from this record once "
        "the retention period for data requests has passed.",
    )
    details = models.TextField(
        blank=True,
        max_length=3000,
        help_text="What was asked, how you checked who is asking, what you did. Keep it "
        "short: this is personal data too.",
    )
    received_at = models.DateTimeField(
        "date received",
        default=timezone.now,
        help_text="UK GDPR Art. 12(3): the answer is due within one month of receipt.",
    )
    extended = models.BooleanField(
        "deadline extended by two further months",
        default=False,
        help_text="Art. 12(3) allows two further months where necessary, given the "
        "complexity and number of requests. The person must be told of the extension, and "
        "why, within the first month.",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Waiting requests first, oldest first, on every database (NULLs sort differently).
        ordering = [models.F("completed_at").asc(nulls_first=True), "received_at"]
        permissions = [("handle_data_request", "Can export and erase commenters’ data")]
        indexes = [models.Index(fields=["completed_at", "received_at"], name="datarequest_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} request of {self.received_at:%d %b %Y}"

    @property
    def due_at(self):
        """One month from receipt, or three when extended (Art. 12(3))."""
        return months_after(self.received_at, 3 if self.extended else 1)

    @property
    def is_overdue(self):
        return self.completed_at is None and timezone.now() > self.due_at

    def complete(self, outcome, by=None):
        self.completed_at, self.outcome, self.handled_by = timezone.now(), outcome[:300], by
        self.save(update_fields=["completed_at", "outcome", "handled_by"])
