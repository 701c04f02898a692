"""The defamation complaint process (Defamation Act 2013 s.5; the Defamation (Operators of
Websites) Regulations 2013, SI 2013/3028), with its clocks. Time travel is done by giving the
functions `now=` and by moving the rows' own timestamps: no clock mocking."""

import datetime
import io
import re
import zoneinfo

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from comments import defamation, moderation_services
from comments.models import Comment, DefamationComplaint, ModerationEvent
from tests.factories import CommentFactory, UserFactory, text

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")
Status = DefamationComplaint.Status


def london(*args):
    return datetime.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def moderator(db):
    user = UserFactory(username="maria", email="maria@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


NOTICE = {
    "name": "Alex Complainant",
    "email": "alex@example.net",
    "meaning": "That I took money from the parking budget.",
    "why_defamatory": "It names me as the ward officer and says I am dishonest.",
    "inaccurate": "I have never handled the parking budget.",
    "cannot_identify_poster": "on",
}


def complain(client, comment, **fields):
    data = {**NOTICE, **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(reverse("comments:complain-submit", args=[comment.pk]), data)


def respond_link(message):
    return re.search(r"https?://[^/\s]+(/comments/respond/\S+/)", message.body).group(1)


def received(client, comment, capture, **fields):
    with capture(execute=True):
        response = complain(client, comment, **fields)
    assert response.status_code == 200, text(response)
    return DefamationComplaint.objects.get(comment=comment)


# The clocks (reg. 1(3) and the Schedule)


def test_the_operators_48_hours_leave_out_weekends():
    # Received Friday 10:00: Friday's 14 hours, then Monday's 24, then 10 on Tuesday.
    assert defamation.operator_deadline(london(2026, 3, 6, 10)) == london(2026, 3, 10, 10)
    # Received on a Saturday: the clock starts on Monday.
    assert defamation.operator_deadline(london(2026, 3, 7, 15)) == london(2026, 3, 11, 0)


def test_the_operators_48_hours_leave_out_good_friday_christmas_and_bank_holidays():
    assert defamation.easter_sunday(2026) == datetime.date(2026, 4, 5)
    holidays = defamation.bank_holidays(2026)
    assert {datetime.date(2026, 4, 3), datetime.date(2026, 4, 6)} <= holidays
    assert {datetime.date(2026, 5, 4), datetime.date(2026, 5, 25)} <= holidays
    assert {datetime.date(2026, 8, 31), datetime.date(2026, 12, 25)} <= holidays
    assert datetime.date(2026, 12, 28) in holidays  # Boxing Day falls on a Saturday
    # Thursday before Easter, 09:00: Thursday's 15 hours, then Tuesday's 24 and 9 on Wednesday.
    assert defamation.operator_deadline(london(2026, 4, 2, 9)) == london(2026, 4, 8, 9)
    # Christmas Eve 2026 (Thursday), noon: 12 hours, then Tuesday 29th 24, Wednesday 12.
    assert defamation.operator_deadline(london(2026, 12, 24, 12)) == london(2026, 12, 30, 12)


def test_new_years_day_is_the_bank_holiday_unless_it_falls_at_a_weekend():
    """Regression: a weekday New Year's Day was taken for the following Monday."""
    assert datetime.date(2026, 1, 1) in defamation.bank_holidays(2026)  # a Thursday
    assert datetime.date(2026, 1, 5) not in defamation.bank_holidays(2026)
    assert datetime.date(2022, 1, 3) in defamation.bank_holidays(2022)  # 1st a Saturday
    assert datetime.date(2023, 1, 2) in defamation.bank_holidays(2023)  # 1st a Sunday
    # New Year's Eve 2025 (Wednesday), noon: 12 hours, Friday 2nd's 24, then Monday's 12.
    assert defamation.operator_deadline(london(2025, 12, 31, 12)) == london(2026, 1, 5, 12)


def test_the_clock_runs_across_a_clock_change():
    # The clocks go forward on Sunday 29 March 2026: 48 real hours from Friday 27 at 12:00.
    start = london(2026, 3, 27, 12)
    end = defamation.operator_deadline(start)
    assert end == london(2026, 3, 31, 12)


def test_the_posters_five_days_end_at_midnight_after_the_fifth_day():
    # Notified on Monday 2 March at 09:00: until the end of Saturday 7 March (calendar days).
    deadline = defamation.poster_deadline(london(2026, 3, 2, 9))
    assert deadline == london(2026, 3, 8, 0)
    # Notified late in the evening, UK time, the day is still the UK day.
    assert defamation.poster_deadline(london(2026, 3, 2, 23, 30)) == london(2026, 3, 8, 0)


# The notice of complaint (s.5(6), reg. 2)


def test_the_notice_must_hold_what_the_regulations_require(client, comment_settings):
    from django.core.cache import cache

    comment = CommentFactory()
    for missing in ("name", "email", "meaning", "why_defamatory", "inaccurate"):
        cache.clear()  # the rate limit counts refused notices too
        refused = complain(client, comment, **{missing: None})
        assert refused.status_code == 400, missing
    cache.clear()
    refused = complain(client, comment, cannot_identify_poster=None)
    assert refused.status_code == 400
    assert "s.5(3)(a)" in text(refused)
    assert complain(client, comment, meaning="x" * 3001).status_code == 400
    assert DefamationComplaint.objects.count() == 0
    form = text(client.get(reverse("comments:complain", args=[comment.pk])))
    assert "may be told my name" in form and "may be told my email address" in form  # 2(e)


def test_a_complaint_about_a_comment_that_is_not_public_is_a_404(client, comment_settings):
    comment = CommentFactory(removed=True)
    assert client.get(reverse("comments:complain", args=[comment.pk])).status_code == 404
    assert complain(client, comment).status_code == 404


def test_complaints_are_rate_limited(client, comment_settings):
    comment = CommentFactory()
    codes = [complain(client, comment).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# The steps


def test_the_poster_is_notified_at_once_with_the_complainants_details_withheld(
    client, comment_settings, django_capture_on_commit_callbacks
):
    comment = CommentFactory(user_email="poster@example.net")
    complaint = received(client, comment, django_capture_on_commit_callbacks)
    assert complaint.status == Status.AWAITING_POSTER
    # Notified well within 48 hours of receipt.
    assert complaint.poster_notified_at - complaint.received_at < datetime.timedelta(minutes=1)
    assert complaint.poster_deadline == defamation.poster_deadline(complaint.poster_notified_at)
    notice, acknowledgement = mail.outbox
    assert notice.to == ["poster@example.net"]
    assert NOTICE["meaning"] in notice.body and NOTICE["inaccurate"] in notice.body
    assert "Alex Complainant" not in notice.body and "alex@example.net" not in notice.body
    assert "full name and postal address" in notice.body
    assert acknowledgement.to == ["alex@example.net"]
    assert "sent the person who posted it a copy" in acknowledgement.body
    # Both name the fifth day after the day of the notice, whose end is the deadline
    # (regression: they named the day after it, a day the poster does not have).
    sent_on = timezone.localtime(complaint.poster_notified_at, LONDON).date()
    fifth, sixth = (sent_on + datetime.timedelta(days=n) for n in (5, 6))
    for message in (notice, acknowledgement):
        body = " ".join(message.body.split())
        assert f"midnight (UK time) at the end of {fifth:%A} {fifth.day} {fifth:%B %Y}" in body
        assert f"{sixth:%A} {sixth.day} {sixth:%B %Y}" not in body
    page = text(client.get(respond_link(notice)))
    assert f"midnight at the end of {fifth:%A} {fifth.day} {fifth:%B %Y}" in page
    actions = set(comment.events.values_list("action", flat=True))
    assert {
        ModerationEvent.Action.COMPLAINT_RECEIVED,
        ModerationEvent.Action.POSTER_NOTIFIED,
    } <= actions


def test_the_complainants_details_go_to_the_poster_only_with_consent(
    client, comment_settings, django_capture_on_commit_callbacks
):
    comment = CommentFactory()
    received(client, comment, django_capture_on_commit_callbacks, share_name="on")
    notice = mail.outbox[0]
    assert "Alex Complainant" in notice.body and "alex@example.net" not in notice.body


def test_the_poster_consents_and_the_comment_is_removed(
    client, comment_settings, django_capture_on_commit_callbacks
):
    comment = CommentFactory()
    complaint = received(client, comment, django_capture_on_commit_callbacks)
    link = respond_link(mail.outbox[0])
    mail.outbox.clear()
    assert client.get(link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(link, {"answer": "remove"})
    assert answered.status_code == 200 and "has been removed" in text(answered)
    complaint.refresh_from_db()
    assert complaint.status == Status.REMOVED
    assert Comment.objects.get(pk=comment.pk).is_removed
    told, poster_told = sorted(mail.outbox, key=lambda m: m.to != ["alex@example.net"])
    assert told.to == ["alex@example.net"] and "has been removed" in told.body
    assert poster_told.to == [comment.user_email] and "agreed to its removal" in poster_told.body


def test_the_poster_refuses_with_details_and_the_comment_stays(
    client, comment_settings, django_capture_on_commit_callbacks
):
    comment = CommentFactory()
    complaint = received(client, comment, django_capture_on_commit_callbacks)
    link = respond_link(mail.outbox[0])
    # A refusal without a full name and postal address is refused by the form.
    refused = client.post(link, {"answer": "keep", "full_name": "", "postal_address": ""})
    assert refused.status_code == 400 and "full name and postal address" in text(refused)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            link,
            {
                "answer": "keep",
                "full_name": "Pat Poster",
                "postal_address": "1 High Street, Barnet EN5 1AA",
            },
        )
    complaint.refresh_from_db()
    assert complaint.status == Status.KEPT and complaint.poster_name == "Pat Poster"
    assert Comment.objects.get(pk=comment.pk).is_visible
    (told,) = mail.outbox
    assert "does not want it removed" in told.body
    assert "did not agree" in told.body and "1 High Street" not in told.body
    # The answer is final: the link now says so.
    assert "comment stays up" in text(client.get(link))


def test_the_posters_details_go_to_the_complainant_only_with_consent(
    client, comment_settings, django_capture_on_commit_callbacks
):
    comment = CommentFactory()
    received(client, comment, django_capture_on_commit_callbacks)
    link = respond_link(mail.outbox[0])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            link,
            {
                "answer": "keep",
                "full_name": "Pat Poster",
                "postal_address": "1 High Street, Barnet EN5 1AA",
                "share_details": "on",
            },
        )
    (told,) = mail.outbox
    assert "Pat Poster" in told.body and "1 High Street, Barnet EN5 1AA" in told.body


def test_a_silent_poster_has_the_comment_removed_after_five_days(
    client, comment_settings, moderator, django_capture_on_commit_callbacks
):
    comment = CommentFactory()
    complaint = received(client, comment, django_capture_on_commit_callbacks)
    link = respond_link(mail.outbox[0])
    deadline = complaint.poster_deadline
    mail.outbox.clear()
    # The day before the deadline nothing happens.
    with django_capture_on_commit_callbacks(execute=True):
        moderation_services.process_complaint_deadlines(now=deadline - datetime.timedelta(days=1))
    assert Comment.objects.get(pk=comment.pk).is_visible and mail.outbox == []
    # Time travel: the notice went out six days ago, so the deadline has passed.
    DefamationComplaint.objects.filter(pk=complaint.pk).update(
        poster_notified_at=complaint.poster_notified_at - datetime.timedelta(days=6),
        poster_deadline=deadline - datetime.timedelta(days=6),
    )
    expired = client.get(link)
    assert expired.status_code == 410 and "time to answer" in text(expired)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("complaint_deadlines", stdout=io.StringIO())
    complaint.refresh_from_db()
    assert complaint.status == Status.REMOVED
    assert Comment.objects.get(pk=comment.pk).is_removed
    told, poster_told = sorted(mail.outbox, key=lambda m: m.to != ["alex@example.net"])
    assert told.to == ["alex@example.net"] and "did not answer by the deadline" in told.body
    # The poster hears it is gone, like any removal, with no review link.
    assert poster_told.to == [comment.user_email]
    assert "has been removed" in poster_told.body and "did not answer" in poster_told.body
    assert "/comments/review/" not in poster_told.body


def test_a_poster_who_cannot_be_emailed_has_the_comment_removed_at_once(
    client, comment_settings, django_capture_on_commit_callbacks
):
    comment = CommentFactory()
    Comment.objects.filter(pk=comment.pk).update(user_email="")
    complaint = received(client, comment, django_capture_on_commit_callbacks)
    assert complaint.status == Status.REMOVED
    (told,) = mail.outbox
    assert told.to == ["alex@example.net"] and "cannot be contacted" in told.body


def test_overdue_complaints_stand_out_and_trigger_an_email(
    client, admin_client, comment_settings, moderator, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    comment = CommentFactory()
    # The notice could not be sent (say the mail server was down): still due.
    complaint = DefamationComplaint.objects.create(
        comment=comment,
        **{k: v for k, v in NOTICE.items() if k != "cannot_identify_poster"},
        cannot_identify_poster=True,
        received_at=london(2026, 3, 2, 9),
    )
    now = london(2026, 3, 5, 9)  # Thursday: 72 working hours later
    assert defamation.is_overdue(complaint, now)
    assert defamation.next_step(complaint, now)[1] == london(2026, 3, 4, 9)
    listing = text(admin_client.get(reverse("admin:comments_defamationcomplaint_changelist")))
    assert "OVERDUE: Notify the poster" in listing
    page = text(
        admin_client.get(reverse("admin:comments_defamationcomplaint_change", args=[complaint.pk]))
    )
    assert "SI 2013/3028" in page and "reg. 1(3)" in page and "s.5(6)" in page
    # The admin's help cites each requirement where the moderator reads it.
    for cited in ("2(d)", "2(e)", "Good Friday, Christmas Day", "fifth day", "not legal advice"):
        assert cited in page, cited


def test_a_removal_missed_for_days_is_made_by_the_next_run(
    moderator, django_capture_on_commit_callbacks
):
    comment = CommentFactory()
    complaint = DefamationComplaint.objects.create(
        comment=comment,
        **{k: v for k, v in NOTICE.items() if k != "cannot_identify_poster"},
        cannot_identify_poster=True,
        status=Status.AWAITING_POSTER,
        poster_notified_at=timezone.now() - datetime.timedelta(days=20),
        poster_deadline=timezone.now() - datetime.timedelta(days=14),
    )
    # Removal failed to run for two weeks: the deadlines command removes it now.
    with django_capture_on_commit_callbacks(execute=True):
        overdue = moderation_services.process_complaint_deadlines()
    assert overdue == []
    complaint.refresh_from_db()
    assert complaint.status == Status.REMOVED


def test_a_moderator_may_remove_the_comment_at_any_step(
    client, admin_client, comment_settings, django_capture_on_commit_callbacks
):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    comment = CommentFactory()
    complaint = received(client, comment, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:comments_defamationcomplaint_changelist"),
            {"action": "remove_comments", ACTION_CHECKBOX_NAME: [complaint.pk], "index": "0"},
        )
    complaint.refresh_from_db()
    assert complaint.status == Status.REMOVED and Comment.objects.get(pk=comment.pk).is_removed
    assert sorted(m.to for m in mail.outbox) == sorted([["alex@example.net"], [comment.user_email]])


def test_authors_do_not_see_defamation_complaints(client, author_user):
    client.force_login(author_user)
    url = reverse("admin:comments_defamationcomplaint_changelist")
    assert client.get(url).status_code == 403


def test_overdue_complaints_trigger_an_email_to_moderators(
    moderator, monkeypatch, django_capture_on_commit_callbacks
):
    """A notice that cannot be sent (the mail server refuses it) stays due; once past the
    48 hours, `complaint_deadlines` emails the moderators, and the digest lists it."""
    monkeypatch.setattr(moderation_services, "send_notice", lambda complaint, now=None: None)
    complaint = DefamationComplaint.objects.create(
        comment=CommentFactory(),
        **{k: v for k, v in NOTICE.items() if k != "cannot_identify_poster"},
        cannot_identify_poster=True,
        received_at=timezone.now() - datetime.timedelta(days=7),
    )
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # the queue delivers on commit
        call_command("complaint_deadlines", stdout=out)
    assert "1 complaint(s) overdue" in out.getvalue()
    (alert,) = mail.outbox
    assert alert.to == ["maria@example.org"] and "OVERDUE" in alert.subject
    assert reverse("admin:comments_defamationcomplaint_change", args=[complaint.pk]) in alert.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("moderation_digest", stdout=io.StringIO())
    (digest,) = mail.outbox
    assert f"Complaint {complaint.pk} about comment {complaint.comment_id}" in digest.body
