"""Residents' data rights (UK GDPR): "Your comments and your data", and the controller's log.

A resident asks for a link with their email address. Whoever asks, and whether or not the
address has ever commented, the same work is done and the same page answers: a link is stored
and emailed (no account enumeration). The link is signed, expires, and works once: opening it
starts a short session in that browser, on a page listing every comment made with the address,
where they can download everything (JSON or CSV), stop follow-up emails, and delete one comment
or all of them. The admin's actions on a `DataRequest` call the same functions.

Erasure deletes, it does not hide: a comment without replies goes, row and all; one whose
replies hold their place in a thread stays as an empty placeholder ("Deleted at the commenter's
request") with nothing of its author or text. Everything else that holds the commenter's data
goes in the same transaction: the moderation log's notes, follow-up subscriptions, review
requests, a poster's answer to a defamation complaint, the reports they made, the links.
(Comments are not in the site search index: `posts/search.py` indexes posts only.)
"""

import csv
import datetime
import hashlib
import hmac
import io
import secrets

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from core import pagecache
from core.ratelimit import over_limit
from core.site import site_url
from posts.models import Post

from . import moderation_services, services
from .models import (
    Comment,
    DataLink,
    DataRequest,
    DefamationComplaint,
    ModerationEvent,
    Report,
    ReportCase,
    Review,
)

LINK_SALT = "barnetblog.comments.your-data.link"
SESSION_SALT = "barnetblog.comments.your-data.session"
SESSION_COOKIE = "bb_yourdata"
ERASED_TEXT = "Deleted at the commenter’s request"


class LinkProblem(Exception):
    """Why a link or session cannot be used: a message for the resident and an HTTP status."""

    def __init__(self, message, status):
        super().__init__(message)
        self.message, self.status = message, status


def _hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise(email):
    return email.strip().lower()


# The link


def request_link(email):
    """Store and email a link for `email`, whoever it belongs to (see the module docstring).

    Past `COMMENT_DATA_LINKS_PER_HOUR` links to one address in an hour, no more are sent; the
    page that answers says the same either way."""
    email = normalise(email)
    if over_limit("data-links", _hash(email), settings.COMMENT_DATA_LINKS_PER_HOUR, 3600):
        return None
    secret = secrets.token_urlsafe(24)
    with transaction.atomic():
        link = DataLink.objects.create(email=email, secret_hash=_hash(secret))
        token = signing.dumps({"l": link.pk, "s": secret}, salt=LINK_SALT)
        transaction.on_commit(lambda: send_link(email, token))
    return link


def send_link(email, token):
    services._send(
        "Your comments and your data",
        "comments/email/your_data_link.txt",
        {
            "open_url": reverse("comments:your-data-open", kwargs={"token": token}),
            "hours": settings.COMMENT_DATA_LINK_MAX_AGE // 3600,
        },
        [email],
    )


def link_from_token(token, for_update=False):
    """The unused link a token names; raises LinkProblem for a wrong, expired or spent one."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=settings.COMMENT_DATA_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise LinkProblem("This link has expired. You can ask for a new one.", 410) from None
    except signing.BadSignature:
        raise LinkProblem("This link is not valid. Check that it was copied whole.", 400) from None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("l"), int)
        and not isinstance(data.get("l"), bool)
        and isinstance(data.get("s"), str)
    ):
        raise LinkProblem("This link is not valid. Check that it was copied whole.", 400)
    links = DataLink.objects.select_for_update() if for_update else DataLink.objects
    link = links.filter(pk=data["l"]).first()
    if link is None or not hmac.compare_digest(link.secret_hash, _hash(data["s"])):
        raise LinkProblem("This link is no longer valid. You can ask for a new one.", 410)
    if link.opened_at is not None or link.closed_at is not None:
        raise LinkProblem(
            "This link has already been used: each link works once. You can ask for a new one.",
            410,
        )
    return link


def open_link(token):
    """Spend the link and start its session: returns the session cookie's value."""
    secret = secrets.token_urlsafe(24)
    with transaction.atomic():
        link = link_from_token(token, for_update=True)
        link.opened_at, link.session_hash = timezone.now(), _hash(secret)
        link.save(update_fields=["opened_at", "session_hash"])
    return signing.dumps({"l": link.pk, "s": secret}, salt=SESSION_SALT)


def link_from_session(value):
    """The opened link a session cookie names; raises LinkProblem when there is none."""
    ended = LinkProblem(
        "Your session has ended. Ask for a new link to see your comments again.", 403
    )
    if not value:
        raise ended
    try:
        data = signing.loads(
            value, salt=SESSION_SALT, max_age=settings.COMMENT_DATA_SESSION_MAX_AGE
        )
    except signing.BadSignature:
        raise ended from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        raise ended
    link = DataLink.objects.filter(pk=data.get("l") if isinstance(data.get("l"), int) else None)
    link = link.filter(closed_at__isnull=True, opened_at__isnull=False).first()
    if link is None or not hmac.compare_digest(link.session_hash, _hash(data["s"])):
        raise ended
    return link


# What we hold


def comments_of(email):
    """Every comment made with `email`, in any state (placeholders hold nothing of theirs)."""
    return (
        Comment.objects.filter(user_email__iexact=normalise(email), erased_at__isnull=True)
        .select_related(None)
        .order_by("submit_date", "pk")
    )


def with_posts(comments):
    """`comments` as a list, each with `.post` set: one query for all their posts."""
    comments = list(comments)
    pks = {int(c.object_pk) for c in comments if c.object_pk.isdigit()}
    posts = Post.objects.filter(pk__in=pks).select_related(None).in_bulk() if pks else {}
    for comment in comments:
        comment.post = posts.get(int(comment.object_pk)) if comment.object_pk.isdigit() else None
        comment.state = STATES[comment.queue]
    return comments


STATES = {
    "approved": "Published",
    "pending": "Awaiting moderation",
    "unconfirmed": "Awaiting confirmation of the email address",
    "removed": "Removed by a moderator",
    "spam": "Marked as spam",
}


def _local(moment):
    return timezone.localtime(moment).isoformat() if moment else None


def export(email):
    """Everything we hold about the commenter with `email`, and nothing about anyone else:
    their comments (in every state) with the name, email, website and IP address (while still
    held) they were made with, their follow-up subscriptions, and reports they made."""
    email = normalise(email)
    comments = with_posts(comments_of(email))
    rows = [
        {
            "id": c.pk,
            "post": c.post.plain_title if c.post else None,
            "post_url": (
                site_url() + c.post.get_absolute_url() if c.post and c.post.is_published() else None
            ),
            "in_reply_to_comment": c.parent_id if c.parent_id != c.pk else None,
            "name": c.user_name,
            "email": c.user_email,
            "website": c.user_url,
            "ip_address": c.ip_address,
            "submitted": _local(c.submit_date),
            "state": STATES[c.queue],
            "moderated": _local(c.moderated_at),
            "follow_up_emails": c.followup,
            "text": c.comment,
        }
        for c in comments
    ]
    reports = Report.objects.filter(email__iexact=email).select_related("case").order_by("pk")
    return {
        "email": email,
        "exported": _local(timezone.now()),
        "site": site_url(),
        "comments": rows,
        "follow_up_subscriptions": sorted(
            {(r["post"] or "", r["post_url"] or "") for r in rows if r["follow_up_emails"]}
        ),
        "reports_made": [
            {
                "comment": r.case.comment_id,
                "reason": r.get_reason_display(),
                "explanation": r.explanation,
                "email": r.email,
                "made": _local(r.created_at),
            }
            for r in reports
        ],
    }


CSV_COLUMNS = [
    "id",
    "post",
    "post_url",
    "in_reply_to_comment",
    "name",
    "email",
    "website",
    "ip_address",
    "submitted",
    "state",
    "moderated",
    "follow_up_emails",
    "text",
]


def export_csv(email):
    """The comments of `export()`, one row each (a spreadsheet's view of the same data)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in export(email)["comments"]:
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value):
    """A CSV cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def stop_followups(email):
    """No more follow-up emails to `email`, about any post. Returns how many comments asked."""
    return comments_of(email).filter(followup=True).update(followup=False)


# Erasure


def erase(comments, by=None):
    """Delete `comments` and every trace of their author, in one transaction.

    Returns (deleted, kept as placeholders). Replies first, so a comment whose only replies
    are being erased too goes entirely."""
    deleted = placeholders = 0
    with transaction.atomic():
        for comment in sorted(comments, key=lambda c: (-c.level, -c.pk)):
            comment = Comment.objects.select_related(None).select_for_update().get(pk=comment.pk)
            if _holds_a_place(comment):
                _empty(comment, by)
                placeholders += 1
            else:
                comment.delete()
                deleted += 1
        pagecache.invalidate_discussion()
    return deleted, placeholders


def _holds_a_place(comment):
    """Replies hang from it, or a defamation complaint (the complainant's record) cites it."""
    replies = Comment.objects.filter(parent_id=comment.pk).exclude(pk=F("parent_id"))
    return replies.exists() or comment.complaints.exists()


def _empty(comment, by):
    now = timezone.now()
    comment.user_name = comment.user_email = comment.user_url = comment.comment = ""
    comment.held_reason = comment.fingerprint = ""  # the fingerprint hashes email and text
    comment.ip_address = comment.user = None
    comment.followup = False
    comment.is_removed, comment.removal_rule, comment.erased_at = True, None, now
    comment.save(
        update_fields=[
            "user_name",
            "user_email",
            "user_url",
            "comment",
            "comment_html",
            "held_reason",
            "fingerprint",
            "ip_address",
            "user",
            "followup",
            "is_removed",
            "removal_rule",
            "erased_at",
        ]
    )
    comment.events.update(note="")
    ModerationEvent.objects.create(comment=comment, action=ModerationEvent.Action.ERASED, actor=by)
    comment.reviews.all().delete()  # their reasons, in their words
    comment.report_cases.filter(closed_at__isnull=True).update(
        closed_at=now, closed_by=by, outcome=ModerationEvent.Action.ERASED
    )
    complaints = DefamationComplaint.objects.filter(comment=comment)
    complaints.update(poster_name="", poster_address="", poster_shares_details=False)
    for complaint in complaints.filter(status__in=DefamationComplaint.OPEN):
        complaint.status, complaint.closed_at = DefamationComplaint.Status.REMOVED, now
        complaint.save(update_fields=["status", "closed_at"])
        transaction.on_commit(
            lambda c=complaint: moderation_services.tell_complainant(
                c, "removed", "The person who posted it has deleted it."
            )
        )


def erase_commenter(email, by=None):
    """Erase every comment made with `email`, the reports made with it and its links."""
    email = normalise(email)
    with transaction.atomic():
        deleted, placeholders = erase(comments_of(email), by=by)
        for report in Report.objects.filter(email__iexact=email):
            report.email = ""
            report.reporter_key = moderation_services.reporter_key("", f"erased-{report.pk}")
            report.save(update_fields=["email", "reporter_key"])
        DataLink.objects.for_email(email).delete()
    return deleted, placeholders


def erasure_outcome(deleted, placeholders):
    total = deleted + placeholders
    outcome = f"Erased {total} comment{'s' if total != 1 else ''}"
    if placeholders:
        outcome += (
            f" ({placeholders} with replies left as “{ERASED_TEXT}” placeholder"
            f"{'s' if placeholders != 1 else ''})"
        )
    return outcome + "."


# The controller's log


def log(kind, email, outcome, by=None, route=DataRequest.Route.SELF_SERVICE):
    """Record a request answered at once (self-service, or an admin action). An erasure's
    record keeps no address: it would be the one trace left of the person."""
    keep = "" if kind == DataRequest.Kind.ERASURE else normalise(email)
    now = timezone.now()
    return DataRequest.objects.create(
        kind=kind,
        route=route,
        email=keep,
        received_at=now,
        completed_at=now,
        outcome=outcome[:300],
        handled_by=by,
    )


# Retention (`purge_comment_data`)


def purge(now=None):
    """Delete what the privacy notice says is kept no longer; returns counts by kind."""
    now = now or timezone.now()
    days = datetime.timedelta
    link_age = settings.COMMENT_DATA_LINK_MAX_AGE + settings.COMMENT_DATA_SESSION_MAX_AGE
    links, _ = DataLink.objects.filter(created_at__lt=now - days(seconds=link_age)).delete()
    requests = (
        DataRequest.objects.filter(
            completed_at__lt=now - days(days=settings.COMMENT_DATA_REQUEST_RETENTION_DAYS)
        )
        .exclude(email="", details="")
        .update(email="", details="")
    )
    report_cutoff = now - days(days=settings.COMMENT_REPORT_RETENTION_DAYS)
    reports = 0
    for report in Report.objects.filter(
        case__in=ReportCase.objects.filter(closed_at__lt=report_cutoff)
    ).exclude(email="", explanation=""):
        report.email = report.explanation = ""
        report.reporter_key = moderation_services.reporter_key("", f"expired-{report.pk}")
        report.save(update_fields=["email", "explanation", "reporter_key"])
        reports += 1
    review_cutoff = now - days(days=settings.COMMENT_REVIEW_RETENTION_DAYS)
    reviews = (
        Review.objects.filter(decided_at__lt=review_cutoff)
        .exclude(reasons="", note="")
        .update(reasons="", note="")
    )
    complaint_cutoff = now - days(days=settings.COMMENT_COMPLAINT_RETENTION_DAYS)
    complaints = (
        DefamationComplaint.objects.filter(closed_at__lt=complaint_cutoff)
        .exclude(name="", email="", poster_name="", poster_address="")
        .update(
            name="",
            email="",
            meaning="",
            why_defamatory="",
            inaccurate="",
            poster_name="",
            poster_address="",
        )
    )
    return {
        "links": links,
        "requests": requests,
        "reports": reports,
        "reviews": reviews,
        "complaints": complaints,
    }
