"""The discussion rules: what happens to a new comment once its author is known.

`verdict()` applies the WordPress-equivalent rules, in this order: disallowed words make it
spam; otherwise moderation words, too many links, a pre-election period that holds comments
or the pre-moderation mode hold it, with the reason recorded for the moderator. Whether a
post takes comments at all (closed by age, or by a pre-election period) is
`models.comments_open()`.

Not a django-contrib-comments `CommentModerator`: the library drives a registered moderator
from the signals of its own `post_comment` view, which this site does not use (see README), and
its `moderate()` can only say yes or no, where our rules have three outcomes and run when the
commenter confirms their address. A registered moderator whose hooks never ran would be an
extension point that looks live and is not, so none is registered.
"""

from core import sanitiser
from posts.models import ElectionPeriod

from .models import Comment, ModerationSettings


class Verdict:
    PUBLISH, HOLD, SPAM = "publish", "hold", "spam"

    def __init__(self, outcome, reason=""):
        self.outcome, self.reason = outcome, reason

    def __repr__(self):
        return f"Verdict({self.outcome!r}, {self.reason!r})"


def verdict(comment, post, rules=None):
    """The `Verdict` of the discussion rules on a confirmed comment on `post`."""
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
    if _is_post_author(comment, post):
        return Verdict(Verdict.PUBLISH)
    for word in ModerationSettings.words(rules.moderation_words):
        if word in haystack:
            return Verdict(Verdict.HOLD, f"Contains a moderation word (“{word}”).")
    links = sanitiser.count_links(comment.comment)
    if rules.hold_links and links >= rules.hold_links:
        return Verdict(Verdict.HOLD, f"Contains {links} links.")
    period = ElectionPeriod.current()
    if period is not None and period.holds_comments:
        return Verdict(Verdict.HOLD, f"Pre-election period ({period}): every comment is held.")
    if rules.mode == ModerationSettings.Mode.ALL:
        return Verdict(Verdict.HOLD, "Every comment is held for a moderator.")
    if rules.mode == ModerationSettings.Mode.FIRST_TIME and not _has_approved_comment(comment):
        return Verdict(Verdict.HOLD, "First comment from this email address.")
    return Verdict(Verdict.PUBLISH)


def _is_post_author(comment, post):
    return comment.user_id is not None and comment.user_id == post.author.user_id


def _has_approved_comment(comment):
    email = (comment.user_email or "").strip()
    if not email:
        return False
    return Comment.objects.public().filter(user_email__iexact=email).exclude(pk=comment.pk).exists()
