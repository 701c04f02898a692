"""The public's side of moderation: reports, reviews (appeals), defamation complaints, and
the figures moderators and the public see (waiting times, the digest, the public record).

Like `services`, every email is queued in the transaction that decides it. The defamation steps
follow `comments/defamation.py`, which cites the provisions each comes from.
"""

import datetime
import hashlib
import hmac
import statistics

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from . import defamation, services
from .models import (
    Comment,
    DefamationComplaint,
    ModerationEvent,
    ModerationSettings,
    Report,
    ReportCase,
    Review,
)

RESPONSE_SALT = "barnetblog.comments.poster-response"
Event = ModerationEvent.Action


def reporter_key(email, ip):
    """Tells distinct reporters apart (keyed, so the table holds no readable address)."""
    who = (email or "").strip().lower() or f"ip:{ip}"
    return hmac.new(settings.SECRET_KEY.encode(), who.encode(), hashlib.sha256).hexdigest()


# Reports


def report(comment, *, reason, rule=None, explanation="", email="", ip=None):
    """A reader reports a public comment: it joins the comment's open case (opening one if
    there is none). With "hold after N reports" set, the Nth distinct reporter holds it.
    A reader's second report of the same case (a double click) changes nothing."""
    with transaction.atomic():
        case = _open_case(comment)
        try:
            with transaction.atomic():
                Report.objects.create(
                    case=case,
                    reason=reason,
                    rule=rule if reason == Report.Reason.HOUSE_RULE else None,
                    explanation=explanation,
                    email=email,
                    reporter_key=reporter_key(email, ip),
                )
        except IntegrityError:
            return case  # this reader's report of this case is in already (unique key)
        ModerationEvent.objects.create(
            comment=comment, action=Event.REPORTED, note=Report.Reason(reason).label
        )
        threshold = ModerationSettings.current().hold_after_reports
        reporters = case.reports.values("reporter_key").distinct().count()
        if threshold and reporters >= threshold and comment.is_visible:
            comment.hold(f"Reported by {reporters} readers.")
            services.notify_held(comment)
    return case


def _open_case(comment):
    case = comment.report_cases.filter(closed_at__isnull=True).first()
    if case is not None:
        return case
    try:
        with transaction.atomic():
            return ReportCase.objects.create(comment=comment)
    except IntegrityError:  # another report opened it at the same moment
        return comment.report_cases.get(closed_at__isnull=True)


def dismiss_reports(case, by, note=""):
    """A moderator leaves the comment as it is: the reports are answered, and the readers
    who reported it are told."""
    with transaction.atomic():
        now = timezone.now()
        case.closed_at, case.closed_by, case.outcome = now, by, Event.REPORTS_DISMISSED
        case.save()
        ModerationEvent.objects.create(
            comment=case.comment, action=Event.REPORTS_DISMISSED, actor=by, note=note, at=now
        )
        transaction.on_commit(lambda: notify_reporters([case.pk]))


# What a reader who reported a comment is told, by the outcome that closed the case.
REPORT_OUTCOMES = {
    Event.REMOVED: "has been removed",
    Event.SPAM: "has been removed as spam",
    Event.APPROVED: "is published: a moderator found it within the house rules",
    Event.REPORTS_DISMISSED: "stays published: a moderator found it within the house rules",
    Event.RESTORED: "is published: a moderator found it within the house rules",
}


def notify_reporters(case_ids):
    """Tell each reader who reported the comment and gave an email (once each, however
    many times they reported it) what was decided. Only the outcome and the house rule it
    cites: never the commenter's details, the moderator's name or other reporters."""
    cases = ReportCase.objects.filter(pk__in=case_ids).select_related("comment")
    for case in cases:
        comment = case.comment
        post = comment.content_object
        decision = (
            comment.events.filter(action=case.outcome, at=case.closed_at)
            .select_related("rule")
            .first()
        )
        rule = decision.rule if decision is not None and case.outcome == Event.REMOVED else None
        emails = {e.strip().lower() for e in case.reports.values_list("email", flat=True) if e}
        for email in sorted(emails):
            services._send(
                "The comment you reported",
                "comments/email/reporter_outcome.txt",
                {
                    "post": post,
                    "outcome": REPORT_OUTCOMES.get(case.outcome, "has been looked at"),
                    "rule": rule,
                    "reported_on": case.opened_at,
                },
                [email],
            )


# Reviews


def why_not_reviewable(event):
    """Why the commenter cannot ask for this decision to be reviewed now, or ""."""
    if event.comment.erased_at is not None:
        return "This comment was deleted at the commenter’s request: there is nothing to review."
    if event.action not in (Event.REMOVED, Event.SPAM):
        return "Only a removal or a spam decision can be reviewed."
    latest = event.comment.last_decision()
    if latest is None or latest.pk != event.pk:
        return "This decision has since been changed: there is nothing left to review."
    return ""


def request_review(event, reasons):
    """The commenter asks for a decision to be looked at again (once per decision)."""
    existing = Review.objects.filter(decision=event).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            review = Review.objects.create(comment=event.comment, decision=event, reasons=reasons)
            ModerationEvent.objects.create(comment=event.comment, action=Event.REVIEW_REQUESTED)
            notify_review_requested(review)
    except IntegrityError:  # the same request at the same moment: one review per decision
        return Review.objects.get(decision=event)
    return review


def decide_review(review, outcome, by, note=""):
    """A second moderator upholds or overturns the decision; the commenter is told.
    Overturning a removal or spam verdict restores the comment, with its replies."""
    with transaction.atomic():
        review.decide(outcome, by, note)
        if outcome == Review.Outcome.OVERTURNED:
            services.restore(review.comment, by=by, note=f"Review overturned the decision. {note}")
        comment = review.comment
        if comment.user_email:
            notify_review_outcome(review)


def notify_review_requested(review):
    recipients = set(services.moderator_emails())
    recipients.discard(getattr(review.decision.actor, "email", None))
    if recipients:
        services._send(
            "A commenter asks for a moderation decision to be reviewed",
            "comments/email/review_requested.txt",
            {
                "review": review,
                "url": reverse("admin:comments_review_change", args=[review.pk]),
            },
            sorted(recipients),
        )


def notify_review_outcome(review):
    comment = review.comment
    services._send(
        f"The review of your comment on “{comment.content_object.plain_title}”",
        "comments/email/review_outcome.txt",
        {"review": review, "comment": comment, "post": comment.content_object},
        [comment.user_email],
    )


# Defamation complaints (see comments/defamation.py for each step's source)


def receive_complaint(comment, form):
    """Store a notice of complaint, and queue the notice to the poster with it.
    The same complainant's second notice about a comment still open returns the first."""
    complaint = form.save(commit=False)
    complaint.comment = comment
    try:
        with transaction.atomic():
            complaint.save()
            ModerationEvent.objects.create(comment=comment, action=Event.COMPLAINT_RECEIVED)
            send_notice(complaint)
    except IntegrityError:  # sent twice: the complainant's open complaint stands (unique key)
        return DefamationComplaint.objects.get(
            comment=comment,
            email__iexact=complaint.email,
            status__in=DefamationComplaint.OPEN,
        )
    return complaint


def response_token(complaint):
    return signing.dumps({"k": complaint.pk}, salt=RESPONSE_SALT)


def complaint_from_response_token(token):
    """The complaint a poster's link names; raises signing.BadSignature, or
    DefamationComplaint.DoesNotExist."""
    data = signing.loads(token, salt=RESPONSE_SALT, max_age=30 * 24 * 3600)
    if not isinstance(data, dict) or not isinstance(data.get("k"), int):
        raise signing.BadSignature("Not a response token.")
    return DefamationComplaint.objects.select_related("comment").get(pk=data["k"])


def send_notice(complaint, now=None):
    """Step 2: send the poster the notice of complaint (or, when they cannot be emailed,
    remove the comment), and tell the complainant which."""
    now = now or timezone.now()
    comment = complaint.comment
    if not comment.user_email:
        _close_by_removal(complaint, "The poster cannot be contacted by email.", now)
        return
    sent = services._send(
        "A complaint about your comment",
        "comments/email/notice_to_poster.txt",
        {
            "complaint": complaint,
            "comment": comment,
            "post": comment.content_object,
            "last_day": defamation.last_day_to_answer(defamation.poster_deadline(now)),
            "respond_url": reverse("comments:respond", kwargs={"token": response_token(complaint)}),
        },
        [comment.user_email],
    )
    if not sent:
        return  # still due: `complaint_deadlines` tries again, and flags it when overdue
    with transaction.atomic():
        complaint.status = DefamationComplaint.Status.AWAITING_POSTER
        complaint.poster_notified_at = now
        complaint.poster_deadline = defamation.poster_deadline(now)
        complaint.save()
        ModerationEvent.objects.create(comment=comment, action=Event.POSTER_NOTIFIED, at=now)
        tell_complainant(complaint, "notified")


def poster_answers(complaint, answer, full_name="", postal_address="", share_details=False):
    """Steps 3 and 4: the poster consents to removal, or refuses and gives their details."""
    now = timezone.now()
    with transaction.atomic():
        complaint.poster_answered_at = now
        ModerationEvent.objects.create(
            comment=complaint.comment,
            action=Event.POSTER_RESPONDED,
            note="Agreed to removal" if answer == "remove" else "Does not want it removed",
        )
        if answer == "remove":
            _close_by_removal(complaint, "The poster agreed to its removal.", now)
            return
        complaint.poster_name = full_name.strip()
        complaint.poster_address = postal_address.strip()
        complaint.poster_shares_details = share_details
        complaint.status = DefamationComplaint.Status.KEPT
        complaint.closed_at = now
        complaint.save()
        ModerationEvent.objects.create(
            comment=complaint.comment,
            action=Event.COMPLAINT_CLOSED,
            note="The poster stands by the comment and gave their name and address.",
        )
        tell_complainant(complaint, "kept")


def remove_for_complaint(complaint, by=None, reason="A moderator removed it."):
    """The operator may remove the comment at any step (a moderator's choice)."""
    _close_by_removal(complaint, reason, timezone.now(), by=by)


def _close_by_removal(complaint, reason, now, by=None):
    with transaction.atomic():
        comment = complaint.comment
        if not comment.is_removed:
            comment.remove(None, by=by, note=f"Defamation complaint: {reason}")
            # The poster hears their comment is gone (like any removal), without a
            # review link.
            if comment.user_email:
                event = comment.last_decision()
                transaction.on_commit(
                    lambda: services.notify_outcome(comment, event, offer_review=False)
                )
        complaint.status = DefamationComplaint.Status.REMOVED
        complaint.closed_at = now
        complaint.save()
        ModerationEvent.objects.create(
            comment=comment, action=Event.COMPLAINT_CLOSED, actor=by, note=reason
        )
        tell_complainant(complaint, "removed", reason)


def tell_complainant(complaint, step, reason=""):
    services._send(
        "Your complaint about a comment",
        "comments/email/complainant.txt",
        {"complaint": complaint, "step": step, "reason": reason},
        [complaint.email],
    )


def process_complaint_deadlines(now=None):
    """Carry out what the clock has made due: resend notices that failed, remove comments
    whose poster did not answer by the deadline (step 5). Returns the complaints still
    overdue after that (for the moderators' alert)."""
    now = now or timezone.now()
    for complaint in DefamationComplaint.objects.filter(
        status=DefamationComplaint.Status.NOTICE_DUE
    ).select_related("comment"):
        send_notice(complaint, now=now)
    for complaint in DefamationComplaint.objects.filter(
        status=DefamationComplaint.Status.AWAITING_POSTER, poster_deadline__lte=now
    ).select_related("comment"):
        _close_by_removal(complaint, "The poster did not answer by the deadline.", now)
    open_ = DefamationComplaint.objects.filter(status__in=DefamationComplaint.OPEN).select_related(
        "comment"
    )
    return [c for c in open_ if defamation.is_overdue(c, now)]


# Waiting times, the digest and the public record


def _median(durations):
    return statistics.median(durations) if durations else None


def age(delta):
    """A waiting time as people say it: "2 days 3 hours", "5 hours", "12 minutes"."""
    if delta is None:
        return "–"
    minutes = int(delta.total_seconds() // 60)
    days, hours = minutes // 1440, minutes % 1440 // 60
    if days:
        hours_text = f" {hours} hour{'s' * (hours != 1)}" if hours else ""
        return f"{days} day{'s' * (days != 1)}{hours_text}"
    if hours:
        return f"{hours} hour{'s' * (hours != 1)}"
    return f"{minutes % 60} minute{'s' * (minutes % 60 != 1)}"


def waiting_times(user, now=None):
    """The queues a moderator works on: how many wait, the oldest's age, and the median time
    to a decision over the last 30 days. Scoped to what `user` may moderate."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=30)
    comments = Comment.objects.moderatable_by(user)
    pending = comments.pending()
    held = ModerationEvent.objects.filter(comment__in=comments, action=Event.HELD, at__gte=since)
    cases = ReportCase.objects.filter(comment__in=comments)
    reviews = Review.objects.filter(comment__in=comments)
    oldest_pending = pending.order_by("submit_date").values_list("submit_date", flat=True).first()
    oldest_case = cases.filter(closed_at__isnull=True).order_by("opened_at").first()
    oldest_review = reviews.filter(outcome=Review.Outcome.WAITING).order_by("requested_at").first()
    rows = [
        {
            "queue": "Pending",
            "url": reverse("admin:comments_comment_changelist") + "?queue=pending",
            "count": pending.count(),
            "oldest": now - oldest_pending if oldest_pending else None,
            "median": _median(held_waits(held)),
        },
        {
            "queue": "Reported",
            "url": reverse("admin:comments_comment_changelist") + "?queue=reported",
            "count": cases.filter(closed_at__isnull=True).count(),
            "oldest": now - oldest_case.opened_at if oldest_case else None,
            "median": _median(
                [c.closed_at - c.opened_at for c in cases.filter(closed_at__gte=since)]
            ),
        },
        {
            "queue": "Review",
            "url": reverse("admin:comments_review_changelist"),
            "count": reviews.filter(outcome=Review.Outcome.WAITING).count(),
            "oldest": now - oldest_review.requested_at if oldest_review else None,
            "median": _median(
                [r.decided_at - r.requested_at for r in reviews.filter(decided_at__gte=since)]
            ),
        },
    ]
    for row in rows:
        row["oldest_text"], row["median_text"] = age(row["oldest"]), age(row["median"])
    return rows


def held_waits(held_events):
    """How long each hold waited for the decision that followed it."""
    return _waits_with_holds(held_events)[0]


def digest(now=None):
    """The moderators' daily digest: None when nothing has waited more than 24 hours."""
    now = now or timezone.now()
    day = datetime.timedelta(hours=24)
    # Only reports: `complaint_deadlines` (hourly) is what acts on the clock.
    open_complaints = [
        (c, defamation.next_step(c, now))
        for c in DefamationComplaint.objects.filter(status__in=DefamationComplaint.OPEN)
    ]
    overdue = [c for c, _ in open_complaints if defamation.is_overdue(c, now)]
    everyone = _digest_user()
    rows = waiting_times(everyone, now)
    if not overdue and not any(r["oldest"] and r["oldest"] > day for r in rows):
        return None
    return {"rows": rows, "overdue": overdue, "complaints": open_complaints, "now": now}


def _digest_user():
    class Everyone:  # the digest goes to moderators of every comment
        pk = None
        is_authenticated = True

        def has_perm(self, perm):
            return True

    return Everyone()


# A daily cron job that starts a little earlier than the day before (load, clock drift)
# still sends: the digest waits 24 hours less this allowance after the last one.
DIGEST_INTERVAL = datetime.timedelta(hours=24)
DIGEST_ALLOWANCE = datetime.timedelta(minutes=10)


def send_digest(now=None):
    """Email the digest to the moderators, at most once in 24 hours; returns whether one
    was sent.

    The time it was sent is kept on the discussion settings (`digest_sent_at`). The run
    claims the day with one conditional UPDATE before sending, so two runs at the same
    moment send one digest between them; a failed send gives the claim back."""
    now = now or timezone.now()
    content = digest(now)
    recipients = services.moderator_emails()
    if content is None or not recipients:
        return False
    row = ModerationSettings.objects.order_by("pk").first() or ModerationSettings.objects.create()
    previous = row.digest_sent_at
    due = Q(digest_sent_at__isnull=True) | Q(
        digest_sent_at__lte=now - (DIGEST_INTERVAL - DIGEST_ALLOWANCE)
    )
    if not ModerationSettings.objects.filter(due, pk=row.pk).update(digest_sent_at=now):
        return False  # a digest already went out in the last 24 hours
    sent = services._send(
        "Moderation: items waiting more than 24 hours",
        "comments/email/digest.txt",
        {**content, "admin_url": reverse("admin:index")},
        recipients,
    )
    if not sent:
        ModerationSettings.objects.filter(pk=row.pk, digest_sent_at=now).update(
            digest_sent_at=previous
        )
    return sent


def month_starts(months, now=None):
    """The first moments (London time) of the last `months` months, oldest first."""
    local = timezone.localtime(now or timezone.now())
    year, month = local.year, local.month
    starts = []
    for _ in range(months):
        starts.append(datetime.datetime(year, month, 1, tzinfo=timezone.get_current_timezone()))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def public_record(months=12, now=None):
    """Per month: comments published, held, removed (by house rule), marked as spam,
    reports received, reviews upheld and overturned, and the median hours a held comment
    waited. Numbers only: no names, no text. A fixed handful of queries."""
    starts = month_starts(months, now)
    first = starts[0]
    bounds = [*starts[1:], None]
    rows = [
        {
            "start": start,
            "published": 0,
            "held": 0,
            "removed": 0,
            "by_rule": {},
            "spam": 0,
            "reports": 0,
            "upheld": 0,
            "overturned": 0,
            "median_wait_hours": None,
        }
        for start in starts
    ]

    def row_for(at):
        for row, end in zip(rows, bounds, strict=True):
            if at >= row["start"] and (end is None or at < end):
                return row
        return None

    # "Published" counts every approval or restore that put a comment in public view
    # (`ModerationEvent.made_public`): a comment restored after a removal, a spam verdict
    # or an overturned review is published again. One comment counts once a month.
    counted = {Event.HELD: "held", Event.SPAM: "spam"}
    events = ModerationEvent.objects.filter(
        Q(action__in=[*counted, Event.REMOVED])
        | Q(action__in=[Event.APPROVED, Event.RESTORED], made_public=True),
        at__gte=first,
    ).values_list("action", "at", "rule__number", "comment_id")
    published_seen = set()
    for action, at, rule_number, comment_id in events:
        row = row_for(at)
        if row is None:
            continue
        if action == Event.REMOVED:
            row["removed"] += 1
            key = rule_number or "other"
            row["by_rule"][key] = row["by_rule"].get(key, 0) + 1
        elif action in (Event.APPROVED, Event.RESTORED):
            if (comment_id, row["start"]) not in published_seen:
                published_seen.add((comment_id, row["start"]))
                row["published"] += 1
        else:
            row[counted[action]] += 1
    for at in Report.objects.filter(created_at__gte=first).values_list("created_at", flat=True):
        if (row := row_for(at)) is not None:
            row["reports"] += 1
    for outcome, at in Review.objects.filter(decided_at__gte=first).values_list(
        "outcome", "decided_at"
    ):
        if (row := row_for(at)) is not None:
            row[outcome] += 1
    waits = {}
    holds = ModerationEvent.objects.filter(action=Event.HELD, at__gte=first)
    for hold_wait, hold in zip(*_waits_with_holds(holds), strict=True):
        if (row := row_for(hold.at)) is not None:
            waits.setdefault(row["start"], []).append(hold_wait.total_seconds() / 3600)
    for row in rows:
        if row["start"] in waits:
            row["median_wait_hours"] = round(statistics.median(waits[row["start"]]), 1)
        row["by_rule"] = sorted(row["by_rule"].items(), key=lambda item: str(item[0]))
    return rows


def _waits_with_holds(holds):
    holds = list(holds.order_by("at"))
    decisions = (
        ModerationEvent.objects.filter(
            comment__in={e.comment_id for e in holds}, action__in=ModerationEvent.DECISIONS
        )
        .order_by("at")
        .values_list("comment_id", "at")
    )
    by_comment = {}
    for comment_id, at in decisions:
        by_comment.setdefault(comment_id, []).append(at)
    waits, decided = [], []
    for hold in holds:
        after = [at for at in by_comment.get(hold.comment_id, []) if at >= hold.at]
        if after:
            waits.append(after[0] - hold.at)
            decided.append(hold)
    return waits, decided
