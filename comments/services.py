"""Actions that span comments, posts, people and email: posting, confirming, notifying.

Emails are real messages sent after the transaction commits, so a rolled-back comment never
sends one and a mail server failure never loses (or duplicates) a comment.
"""

import datetime
import ipaddress
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from barnetblog.site import site_url

from .models import Comment, ModerationEvent
from .moderation import PostModerator, Verdict

log = logging.getLogger(__name__)
moderator = PostModerator(None)

CONFIRM_SALT = "barnetblog.comments.confirm"
UNSUBSCRIBE_SALT = "barnetblog.comments.unsubscribe"


class Refused(Exception):
    """A comment that must not be stored; the message is for the commenter."""


class Submitted:
    def __init__(self, comment, created=True):
        self.comment, self.created = comment, created


def client_ip(request):
    """The commenter's IP address, for flood control, rate limits and moderation words.

    Behind the site's own proxy (`BEHIND_PROXY`), every request comes from the proxy: the
    commenter's address is the last one in X-Forwarded-For, the one the proxy appended
    (earlier entries come from the client and can be forged).
    """
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None


def submit(form, request):
    """Store a valid comment form's comment and start its journey to the public.

    Raises `Refused` for flooding and rate limits. A comment identical to one already posted
    (same post, email and text) is not stored twice: the existing one is returned.
    """
    post = form.target_object
    data = form.get_comment_create_data(site_id=settings.SITE_ID)
    ip = client_ip(request)
    user = request.user if request.user.is_authenticated else None

    existing = (
        Comment.objects.for_post(post)
        .filter(user_email__iexact=data["user_email"], comment=data["comment"])
        .exclude(is_removed=True)
        .first()
    )
    if existing is not None:
        return Submitted(existing, created=False)
    if not (user is not None and user.is_staff):  # the councillor replying is not a flood
        _check_rate(ip, data["user_email"])

    with transaction.atomic():
        comment = Comment(**data, ip_address=ip, user=user)
        comment.confirmed = user is not None or not settings.COMMENTS_XTD_CONFIRM_EMAIL
        comment.is_public = False
        comment.save()
        ModerationEvent.objects.create(
            comment=comment, action=ModerationEvent.Action.POSTED, actor=user
        )
        if comment.confirmed:
            apply_rules(comment)
        else:
            transaction.on_commit(lambda: send_confirmation_request(comment))
    return Submitted(comment)


def _check_rate(ip, email):
    """Flood control (one comment per 15 s per IP and per email) and a per-IP rate limit."""
    since = timezone.now() - datetime.timedelta(seconds=settings.COMMENTS_FLOOD_SECONDS)
    recent = Q(user_email__iexact=email) | (Q(ip_address=ip) if ip else Q(pk__in=[]))
    if Comment.objects.filter(recent, submit_date__gte=since).exists():
        raise Refused(
            f"You posted a comment a moment ago. Please wait "
            f"{settings.COMMENTS_FLOOD_SECONDS} seconds between comments."
        )
    key = f"comments:rate:{ip}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, 90)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    if count > settings.COMMENTS_RATE_PER_MINUTE:
        raise Refused("Too many comments from your connection just now. Please try again later.")


def apply_rules(comment):
    """Publish, hold or mark as spam a confirmed comment, by the discussion rules."""
    verdict = moderator.verdict(comment, comment.content_object)
    if verdict.outcome == Verdict.SPAM:
        comment.mark_spam(note=verdict.reason)
    elif verdict.outcome == Verdict.HOLD:
        comment.hold(verdict.reason)
        transaction.on_commit(lambda: notify_held(comment))
    else:
        comment.approve(note="Passed the discussion rules.")
        transaction.on_commit(lambda: notify_followers(comment))
    return verdict


def approve(comment, by, note=""):
    """A moderator approves a comment; followers hear of it once it is public."""
    with transaction.atomic():
        became_public = comment.approve(by=by, note=note)
        if became_public:
            transaction.on_commit(lambda: notify_followers(comment))


def restore(comment, by, note=""):
    """A moderator undoes a removal or spam verdict; followers hear if it is now public."""
    with transaction.atomic():
        if comment.restore(by=by, note=note):
            transaction.on_commit(lambda: notify_followers(comment))


# Confirmation of anonymous comments


def confirmation_token(comment):
    return signing.dumps({"c": comment.pk}, salt=CONFIRM_SALT, compress=True)


def comment_from_confirmation(token):
    """The unconfirmed comment a token names; raises signing.BadSignature when invalid,
    signing.SignatureExpired when too old, Comment.DoesNotExist when it has gone."""
    data = signing.loads(token, salt=CONFIRM_SALT, max_age=settings.COMMENT_CONFIRMATION_MAX_AGE)
    return Comment.objects.get(pk=data["c"], is_removed=False, is_spam=False)


def confirm(comment):
    """The commenter confirmed their address: apply the rules (once; replays change nothing)."""
    with transaction.atomic():
        # Without xtd's select_related("user", …): PostgreSQL cannot lock the nullable side
        # of an outer join.
        comment = Comment.objects.select_related(None).select_for_update().get(pk=comment.pk)
        if comment.confirmed:
            return comment
        comment.confirmed = True
        comment.save(update_fields=["confirmed", "comment_html"])
        ModerationEvent.objects.create(comment=comment, action=ModerationEvent.Action.CONFIRMED)
        apply_rules(comment)
    return comment


def unsubscribe_token(email, post):
    return signing.dumps({"e": email.lower(), "p": post.pk}, salt=UNSUBSCRIBE_SALT)


def unsubscribe(token):
    """Stop follow-up emails for the email and post a token names; returns (email, post)."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=settings.COMMENT_UNSUBSCRIBE_MAX_AGE)
    from posts.models import Post

    post = Post.objects.get(pk=data["p"])
    Comment.objects.for_post(post).filter(user_email__iexact=data["e"]).update(followup=False)
    return data["e"], post


# Email


def _send(subject, template, context, to, headers=None):
    """Send one plain-text message; runs after commit, so a failure is logged, never raised."""
    try:
        body = render_to_string(
            template, {**context, "site_url": site_url(), "SITE_NAME": settings.SITE_NAME}
        )
        EmailMessage(
            subject=f"[{settings.SITE_NAME}] {subject}",
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            headers=headers or {},
        ).send()
    except Exception:  # a mail server problem must not break the site
        log.exception("Could not send %r to %s", subject, to)


def send_confirmation_request(comment):
    post = comment.content_object
    _send(
        "Please confirm your comment",
        "comments/email/confirm.txt",
        {
            "comment": comment,
            "post": post,
            "confirm_url": reverse(
                "comments:confirm", kwargs={"token": confirmation_token(comment)}
            ),
            "days": settings.COMMENT_CONFIRMATION_MAX_AGE // 86400,
        },
        [comment.user_email],
    )


def moderator_emails():
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    users = users.filter(
        Q(groups__name="Moderators")
        | Q(is_superuser=True)
        | Q(user_permissions__codename="moderate_any_comment")
    )
    return sorted(set(users.values_list("email", flat=True)))


def notify_held(comment):
    post = comment.content_object
    recipients = set(moderator_emails())
    if post.author.user.email:
        recipients.add(post.author.user.email)
    recipients.discard(comment.user_email)
    if not recipients:
        return
    _send(
        f"A comment on “{post.title}” is waiting for moderation",
        "comments/email/held.txt",
        {
            "comment": comment,
            "post": post,
            "queue_url": reverse("admin:comments_comment_changelist") + "?queue=pending",
        },
        sorted(recipients),
    )


def notify_followers(comment):
    """Tell everyone following the post (not the commenter) that a comment is now public."""
    post = comment.content_object
    followers = (
        Comment.objects.for_post(post)
        .public()
        .filter(followup=True)
        .exclude(user_email__iexact=comment.user_email)
        .values_list("user_email", flat=True)
    )
    for email in sorted({e.lower() for e in followers if e}):
        path = reverse("comments:unsubscribe", kwargs={"token": unsubscribe_token(email, post)})
        _send(
            f"New comment on “{post.title}”",
            "comments/email/followup.txt",
            {"comment": comment, "post": post, "unsubscribe_url": path},
            [email],
            # RFC 8058: mail programs may unsubscribe with one POST to the link.
            headers={
                "List-Unsubscribe": f"<{site_url()}{path}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
