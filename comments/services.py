"""Actions that span comments, posts, people and email: posting, confirming, notifying.

Emails are real messages queued in the database inside the transaction that makes them due
(a transactional outbox): a rolled-back comment never sends one, and a committed one always
has its email, even if the database goes away a moment later. The mail worker delivers the
queue (core/mailqueue.py), so a slow or absent mail server neither slows a request nor loses
a message.
"""

import datetime
import ipaddress
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.ratelimit import over_limit
from core.site import site_url
from posts.models import Post

from . import moderation
from .models import Comment, ModerationEvent, ModerationSettings, PostLike
from .moderation import Verdict

log = logging.getLogger(__name__)

CONFIRM_SALT = "barnetblog.comments.confirm"
REVIEW_SALT = "barnetblog.comments.review"
UNSUBSCRIBE_SALT = "barnetblog.comments.unsubscribe"


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

    A copy of a comment already posted (same post, commenter and text: a double click, two
    requests at once, a retry) is not stored twice: the database's unique key on
    `Comment.fingerprint` refuses it, and the comment that won is returned, so every copy's
    sender lands on the same comment. (Flooding was refused before: `rate_refusal`.)
    """
    post = form.target_object
    user = request.user if request.user.is_authenticated else None
    comment = Comment.objects.build_for(
        post,
        parent=form.cleaned_data.get("reply_to"),
        user=user,
        ip_address=client_ip(request),
        **form.comment_fields(),
    )
    comment.fingerprint = comment.same_comment_key()
    try:
        with transaction.atomic():
            comment.confirmed = user is not None or not settings.COMMENTS_XTD_CONFIRM_EMAIL
            comment.is_public = False
            comment.save()
            ModerationEvent.objects.create(
                comment=comment, action=ModerationEvent.Action.POSTED, actor=user
            )
            if comment.confirmed:
                apply_rules(comment)
            else:
                send_confirmation_request(comment)
    except IntegrityError:
        # On PostgreSQL the losing INSERT waited for the winner's commit; this reads it.
        existing = Comment.objects.filter(fingerprint=comment.fingerprint).first()
        if existing is None:
            raise
        return existing
    return comment


def rate_refusal(request, email, text):
    """Why a comment from this request must be refused now (flood control: one comment per
    15 s per IP address and per email; a per-IP limit per minute), or None. Staff replying
    are never refused: the councillor answering residents is not a flood. The same comment
    sent again (a double click) is not a flood: `submit()` finds the first one."""
    if request.user.is_authenticated and request.user.is_staff:
        return None
    ip = client_ip(request)
    # Raw form input, before the form has checked it: nothing PostgreSQL cannot take (NUL).
    email, text = email.replace("\x00", ""), text.replace("\x00", "")
    since = timezone.now() - datetime.timedelta(seconds=settings.COMMENTS_FLOOD_SECONDS)
    recent = (Q(user_email__iexact=email) if email else Q(pk__in=[])) | (
        Q(ip_address=ip) if ip else Q(pk__in=[])
    )
    recent_others = Comment.objects.filter(recent, submit_date__gte=since).exclude(
        comment=text.strip()
    )
    # A flood interval of 0 turns flood control off (the load scenarios in bench/).
    if settings.COMMENTS_FLOOD_SECONDS > 0 and recent_others.exists():
        return (
            f"You posted a comment a moment ago. Please wait "
            f"{settings.COMMENTS_FLOOD_SECONDS} seconds between comments."
        )
    if over_limit("comments", ip, settings.COMMENTS_RATE_PER_MINUTE):
        return "Too many comments from your connection just now."
    return None


def publish_staff_reply(parent, user, text, ip_address=None):
    """Publish `user`'s reply to `parent` straight away: a moderator or the post's author
    answering from the queue. Followers hear of it once the transaction commits."""
    with transaction.atomic():
        reply = Comment.objects.build_for(
            parent.content_object,
            parent=parent,
            user=user,
            comment=text,
            ip_address=ip_address,
            is_public=True,
            confirmed=True,
        )
        reply.save()
        ModerationEvent.objects.create(
            comment=reply, action=ModerationEvent.Action.POSTED, actor=user
        )
        ModerationEvent.objects.create(
            comment=reply,
            action=ModerationEvent.Action.APPROVED,
            actor=user,
            note="Replied from the moderation queue.",
            made_public=True,
        )
        notify_followers(reply)
    return reply


def set_like(post, *, liked=True, user=None, visitor=""):
    """Record (or withdraw) one person's like of `post`: one per account, or per browser.

    A double click, or two requests at once, still leaves one like (the unique constraints
    decide).
    """
    who = {"user": user} if user is not None else {"visitor": visitor}
    if not liked:
        PostLike.objects.filter(post=post, **who).delete()
        return
    try:
        with transaction.atomic():
            PostLike.objects.get_or_create(post=post, **who)
    except IntegrityError:
        pass  # the other request's like stands


def apply_rules(comment):
    """Publish, hold or mark as spam a confirmed comment, by the discussion rules."""
    verdict = moderation.verdict(comment, comment.content_object)
    if verdict.outcome == Verdict.SPAM:
        comment.mark_spam(note=verdict.reason)
    elif verdict.outcome == Verdict.HOLD:
        comment.hold(verdict.reason)
        notify_held(comment)
    else:
        comment.approve(note="Passed the discussion rules.")
        notify_followers(comment)
    return verdict


def approve(comment, by, note=""):
    """A moderator approves a comment; followers hear of it once it is public, and the
    commenter hears that their held comment is published."""
    with transaction.atomic():
        was_held = comment.queue == "pending"
        became_public = comment.approve(by=by, note=note)
        if became_public:
            notify_followers(comment)
        if was_held:
            _tell_outcome(comment)


def remove(comment, rule, by, note=""):
    """A moderator removes a comment under a house rule; the commenter is told why, with a
    link to ask for a review."""
    with transaction.atomic():
        comment.remove(rule, by=by, note=note)
        _tell_outcome(comment)


def mark_spam(comment, by, note=""):
    """A moderator marks a comment as spam; the commenter hears only if the discussion
    settings say so (off by default)."""
    with transaction.atomic():
        comment.mark_spam(by=by, note=note)
        if ModerationSettings.current().email_spam_decisions:
            _tell_outcome(comment)


def restore(comment, by, note=""):
    """A moderator undoes a removal or spam verdict; followers hear if it is now public."""
    with transaction.atomic():
        if comment.restore(by=by, note=note):
            notify_followers(comment)


def _tell_outcome(comment):
    event = comment.last_decision()
    if comment.user_email and event is not None:
        notify_outcome(comment, event)


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


def read_unsubscribe_token(token):
    """(email, published post) that an unsubscribe token names.

    Raises signing.SignatureExpired when too old, signing.BadSignature when tampered with or
    of the wrong shape, Post.DoesNotExist when the post is gone or no longer published.
    """
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=settings.COMMENT_UNSUBSCRIBE_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("e"), str):
        raise signing.BadSignature("Not an unsubscribe token.")
    post_pk = data.get("p")
    if not isinstance(post_pk, int) or isinstance(post_pk, bool):
        raise signing.BadSignature("Not an unsubscribe token.")
    return data["e"], Post.objects.published().get(pk=post_pk)


def unsubscribe(email, post):
    """Stop follow-up emails about `post` to `email`."""
    Comment.objects.for_post(post).filter(user_email__iexact=email).update(followup=False)


# Email


def _send(subject, template, context, to, headers=None):
    """Queue one plain-text message for the mail worker (EMAIL_BACKEND is the queue), in the
    caller's transaction. A database error is raised, so the transaction (and the comment or
    decision) fails with it rather than commit without its email; anything else is logged.
    Returns whether it was queued."""
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
    except DatabaseError:
        raise
    except Exception:  # a broken template must not break the site
        log.exception("Could not send %r to %s", subject, to)
        return False
    return True


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
        f"A comment on “{post.plain_title}” is waiting for moderation",
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
            f"New comment on “{post.plain_title}”",
            "comments/email/followup.txt",
            {"comment": comment, "post": post, "unsubscribe_url": path},
            [email],
            # RFC 8058: mail programs may unsubscribe with one POST to the link.
            headers={
                "List-Unsubscribe": f"<{site_url()}{path}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )


def review_token(event):
    return signing.dumps({"d": event.pk}, salt=REVIEW_SALT)


def review_max_age():
    return getattr(settings, "COMMENT_REVIEW_MAX_AGE", 30 * 24 * 3600)


def decision_from_review_token(token):
    """The decision a review link names; raises signing.BadSignature (or SignatureExpired)
    for a bad or old link, ModerationEvent.DoesNotExist when the decision is gone."""
    data = signing.loads(token, salt=REVIEW_SALT, max_age=review_max_age())
    if not isinstance(data, dict) or not isinstance(data.get("d"), int):
        raise signing.BadSignature("Not a review token.")
    return ModerationEvent.objects.select_related("comment", "rule", "actor").get(pk=data["d"])


def notify_outcome(comment, event, offer_review=True):
    """Tell the commenter what happened to their comment, under which rule and why, and
    (for a removal or spam verdict) how to ask for a review. A removal that answers a
    defamation complaint offers none: it follows the Regulations' procedure, which the
    poster was told of in the notice."""
    post = comment.content_object
    reviewable = offer_review and event.action in (
        ModerationEvent.Action.REMOVED,
        ModerationEvent.Action.SPAM,
    )
    outcome = {
        ModerationEvent.Action.APPROVED: "has been approved and is now published",
        ModerationEvent.Action.REMOVED: (
            "has been removed by a moderator" if event.actor_id else "has been removed"
        ),
        ModerationEvent.Action.SPAM: "has been marked as spam and is not published",
    }.get(event.action, "has been moderated")
    note = event.note if event.rule is None or event.note != str(event.rule) else ""
    _send(
        f"Your comment on “{post.plain_title}”",
        "comments/email/outcome.txt",
        {
            "comment": comment,
            "post": post,
            "outcome": outcome,
            "rule": event.rule,
            "note": note,
            "by_moderator": event.actor_id is not None,
            "review_url": (
                reverse("comments:review", kwargs={"token": review_token(event)})
                if reviewable
                else ""
            ),
            "review_days": review_max_age() // 86400,
        },
        [comment.user_email],
    )
