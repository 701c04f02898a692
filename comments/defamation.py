"""The defamation complaint process: section 5 of the Defamation Act 2013 and the
Defamation (Operators of Websites) Regulations 2013 (SI 2013/3028), as this site follows it.

Section 5 gives the operator of a website a defence to a defamation claim about a statement
it did not post; the defence is defeated if the claimant could not identify the poster, gave
the operator a notice of complaint, and the operator did not respond to it as the
Regulations require (s.5(2)-(3)). Moderating comments does not defeat it (s.5(12)). The
steps, with where they come from:

1. The notice of complaint (the form: `forms.ComplaintForm`) holds what s.5(6)(a)-(c) and
   regulation 2 list: the complainant's name; the statement and why it is defamatory of
   them; where on the website it is (the comment itself); an email address to contact them
   (reg. 2(a)); the meaning they attribute to it (2(b)); what they believe is factually
   inaccurate or opinion not supported by fact (2(c)); confirmation that they do not have
   enough information about the poster to bring proceedings against them (2(d)); and
   whether they consent to the poster being given their name and their email address (2(e)).
   The form refuses a notice without them, saying what is missing, at once (a defective
   notice must be answered within 48 hours: reg. 4).
2. Within 48 hours of receiving it the operator notifies the poster: a copy of the notice,
   with the complainant's name and email withheld unless they consented, saying the comment
   may be removed unless the poster answers by midnight at the end of the fifth day after
   the day the notice was sent, saying whether they want it removed and, if not, giving
   their full name and postal address and whether they consent to those being given to the
   complainant; and tells the complainant the poster has been notified (Schedule). The site
   sends the notice the moment the complaint arrives. A poster it cannot email has their
   comment removed within the same 48 hours, and the complainant is told.
3. The poster consents to removal: the comment is removed (within 48 hours of the answer)
   and the complainant told.
4. The poster refuses, giving their full name and postal address: the comment stays; the
   complainant is told, and given the poster's name and address only if the poster
   consented. A refusal without a full name and postal address is treated as no answer.
5. The poster does not answer by the deadline: the comment is removed within 48 hours of
   it (`complaint_deadlines`, run from cron) and the complainant told.

"48 hours" leaves out Saturdays, Sundays, Good Friday, Christmas Day and bank holidays in
England and Wales (reg. 1(3)): `operator_deadline()`. The poster's five days are calendar
days: regulation 1(3) applies only to the operator's 48 hours. A court may extend the
operator's time (reg. 5): the site does not rely on it.

This is the procedure in the Regulations, not legal advice: whether to rely on the s.5
defence (or to remove a comment anyway) is the site owner's decision.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone

LONDON = zoneinfo.ZoneInfo("Europe/London")
OPERATOR_HOURS = 48
POSTER_DAYS = 5


def easter_sunday(year):
    """Easter Sunday in the Gregorian calendar (the anonymous algorithm, as in Meeus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 19 * m) // 433
    month = (h + m - 7 * n + 90) // 25
    day = (h + m - 7 * n + 33 * month + 19) % 32
    return datetime.date(year, month, day)


def _monday_on_or_after(day):
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year, month):
    last = datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)
    return last - datetime.timedelta(days=last.weekday())


def bank_holidays(year):
    """The regular bank holidays in England and Wales (Banking and Financial Dealings Act
    1971, Schedule 1, with the usual substitute days). One-off holidays proclaimed for a
    year are added with the setting `EXTRA_BANK_HOLIDAYS` (ISO dates)."""
    easter = easter_sunday(year)
    days = {
        _monday_on_or_after(datetime.date(year, 1, 1)),
        easter - datetime.timedelta(days=2),  # Good Friday (a common-law holiday)
        easter + datetime.timedelta(days=1),
        _monday_on_or_after(datetime.date(year, 5, 1)),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    christmas = datetime.date(year, 12, 25)
    days.add(christmas)
    # Boxing Day and its substitute; Christmas Day's substitute when it falls at a weekend.
    if christmas.weekday() == 5:  # Saturday: Monday 27 and Tuesday 28
        days |= {datetime.date(year, 12, 27), datetime.date(year, 12, 28)}
    elif christmas.weekday() == 6:  # Sunday: Monday 26 and Tuesday 27
        days |= {datetime.date(year, 12, 26), datetime.date(year, 12, 27)}
    elif christmas.weekday() == 4:  # Friday: Boxing Day on Saturday, so Monday 28
        days.add(datetime.date(year, 12, 28))
    else:
        days.add(datetime.date(year, 12, 26))
    extra = getattr(settings, "EXTRA_BANK_HOLIDAYS", ())
    days |= {datetime.date.fromisoformat(d) for d in extra if d.startswith(str(year))}
    return days


def is_excluded_day(day):
    """Whether `day` does not count towards the operator's 48 hours (reg. 1(3))."""
    return day.weekday() >= 5 or day in bank_holidays(day.year)


def operator_deadline(start, hours=OPERATOR_HOURS):
    """When the operator's "within 48 hours of" `start` ends, leaving out excluded days.

    Worked in UTC (so a clock change is no gap), with days judged in London."""
    cursor = start.astimezone(datetime.UTC)
    remaining = datetime.timedelta(hours=hours)
    while remaining > datetime.timedelta(0):
        local = cursor.astimezone(LONDON)
        next_midnight = datetime.datetime.combine(
            local.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=LONDON
        ).astimezone(datetime.UTC)
        if not is_excluded_day(local.date()):
            step = min(remaining, next_midnight - cursor)
            remaining -= step
            cursor += step
        else:
            cursor = next_midnight
    return cursor


def poster_deadline(notified_at):
    """Midnight at the end of the fifth day after the day the poster was notified (Schedule),
    in London: notified on a Monday, the poster has until the end of Saturday."""
    day = timezone.localtime(notified_at, LONDON).date() + datetime.timedelta(days=POSTER_DAYS)
    return datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time(), tzinfo=LONDON
    )


def next_step(complaint, now=None):
    """(what the operator must do next, by when) for an open complaint, or None."""
    if complaint.status == complaint.Status.NOTICE_DUE:
        return "Notify the poster", operator_deadline(complaint.received_at)
    if complaint.status == complaint.Status.AWAITING_POSTER:
        now = now or timezone.now()
        if now < complaint.poster_deadline:
            return "Wait for the poster’s answer", complaint.poster_deadline
        return "Remove the comment (the poster did not answer)", operator_deadline(
            complaint.poster_deadline
        )
    return None


def is_overdue(complaint, now=None):
    """Whether the operator has missed the time the Regulations give for its next step."""
    now = now or timezone.now()
    step = next_step(complaint, now)
    return step is not None and not step[0].startswith("Wait") and now >= step[1]
