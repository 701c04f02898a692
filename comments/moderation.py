"""The discussion rules, as a django-contrib-comments `CommentModerator` for posts.

`allow()` says whether a post takes comments at all (per post, and closed after N days);
`verdict()` applies the WordPress-equivalent rules to a new comment, in this order:
disallowed words make it spam; otherwise moderation words, too many links or the
pre-moderation mode hold it, with the reason recorded for the moderator.
"""

import datetime

from django.utils import timezone
from django_comments.moderation import CommentModerator

from barnetblog import sanitiser

from .models import Comment, ModerationSettings


class Verdict:
    PUBLISH, HOLD, SPAM = "publish", "hold", "spam"

    def __init__(self, outcome, reason=""):
        self.outcome, self.reason = outcome, reason

    def __repr__(self):
        return f"Verdict({self.outcome!r}, {self.reason!r})"


class PostModerator(CommentModerator):
    enable_field = "comments_enabled"
    email_notification = False  # services.py sends our own notifications

    def allow(self, comment, content_object, request):
        return comments_open(content_object)

    def moderate(self, comment, content_object, request):
        return self.verdict(comment, content_object).outcome != Verdict.PUBLISH

    def verdict(self, comment, content_object, rules=None):
        rules = rules or ModerationSettings.current()
        haystack = " \n".join(
            str(part or "").lower()
            for part in (
                comment.comment,
                comment.user_name,
                comment.user_email,
                comment.user_url,
                comment.ip_address,
            )
        )
        for word in ModerationSettings.words(rules.disallowed_words):
            if word in haystack:
                return Verdict(Verdict.SPAM, f"Contains a disallowed word (“{word}”).")
        if _is_post_author(comment, content_object):
            return Verdict(Verdict.PUBLISH)
        for word in ModerationSettings.words(rules.moderation_words):
            if word in haystack:
                return Verdict(Verdict.HOLD, f"Contains a moderation word (“{word}”).")
        links = sanitiser.count_links(comment.comment)
        if rules.hold_links and links >= rules.hold_links:
            return Verdict(Verdict.HOLD, f"Contains {links} links.")
        if rules.mode == ModerationSettings.Mode.ALL:
            return Verdict(Verdict.HOLD, "Every comment is held for a moderator.")
        if rules.mode == ModerationSettings.Mode.FIRST_TIME and not _has_approved_comment(comment):
            return Verdict(Verdict.HOLD, "First comment from this email address.")
        return Verdict(Verdict.PUBLISH)


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


def _is_post_author(comment, post):
    return comment.user_id is not None and comment.user_id == post.author.user_id


def _has_approved_comment(comment):
    email = (comment.user_email or "").strip()
    if not email:
        return False
    return Comment.objects.public().filter(user_email__iexact=email).exclude(pk=comment.pk).exists()
