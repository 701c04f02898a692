"""The defamation complaint process: section 5 of the Defamation Act 2013 and the
Defamation (Operators of Websites) Regulations 2013 (SI 2013/3028), as this site follows it.

Section 5 gives the operator of a website a defence to a defamation claim about a statement
it did not post (s.5(2)); the defence is defeated if the claimant could not identify the
poster, gave the operator a notice of complaint, and the operator did not respond to it as
the Regulations require (s.5(3)). Moderating comments does not defeat it (s.5(12)). The
steps, with where they come from:

1. The notice of complaint (the form: `forms.ComplaintForm`) holds what s.5(6)(a)-(c) and
   regulation 2 list: the complainant's name (s.5(6)(a)); the statement and why it is
   defamatory of them (s.5(6)(b)); where on the website it is (s.5(6)(c): the comment
   itself); the email address at which they can be contacted (reg. 2(a)); the meaning they
   attribute to it (2(b)); the aspects they believe are factually inaccurate or opinions
   not supported by fact (2(c)); confirmation that they do not have sufficient information
   about the poster to bring proceedings against them (2(d)); and whether they consent to
   the poster being given their name and their email address (2(e)(i), (ii)). The form
   refuses a notice without them at once, saying what is missing: regulations 2 and 3 are
   "subject to regulation 4", which deals with a notice lacking some of this information
   (the operator tells the complainant what a notice must contain).
2. Within 48 hours of receiving it the operator notifies the poster: a copy of the notice,
   with the complainant's name and email withheld unless they consented, saying the comment
   may be removed unless the poster answers by midnight at the end of the fifth day after
   the day the notice was sent, saying whether they want it removed and, if not, giving
   their full name and postal address and whether they consent to those being given to the
   complainant; and tells the complainant the poster has been notified (the Schedule,
   which regulation 3 makes the measure of "responding" for s.5(3)(c)). The site sends the
   notice the moment the complaint arrives. A poster it has no means of contacting by
   private message (no email address) has their comment removed within the same 48 hours,
   and the complainant is told.
3. The poster consents to removal: the comment is removed (within 48 hours of the answer)
   and the complainant told.
4. The poster refuses, giving their full name and postal address: the comment stays; the
   complainant is told, and given the poster's name and address only if the poster
   consented. The answer form refuses a refusal without a full name and postal address, so
   a poster who never completes it is a poster who did not answer.
5. The poster does not answer by the deadline: the comment is removed within 48 hours of
   it (`complaint_deadlines`, run from cron) and the complainant told.

Time. Regulation 1(3): where the operator must act "within 48 hours of any point in time",
any period falling on a Saturday, Sunday, Good Friday, Christmas Day or a bank holiday
under the Banking and Financial Dealings Act 1971 in England and Wales is disregarded:
`operator_deadline()`. It speaks only of the operator's hours, so the poster's five days
are calendar days (`poster_deadline()`), and every message names the fifth day itself
(`last_day_to_answer()`). A court may treat late action as in time (reg. 5): the site does
not rely on it.

Sources. Regulation 1 (with 1(3) in full), regulation 2 in full and the opening words of
regulation 3 were checked against the text of SI 2013/3028 as made, on legislation.gov.uk
(/uksi/2013/3028/body/made and /regulation/2/made). The Schedule, and regulations 4 and 5,
could not be read in full there; the steps above that rest on them follow the Ministry of
Justice's "Guidance on Section 5 of the Defamation Act 2013 and Regulations" (January 2014)
and published commentary, so this module cites "the Schedule" rather than paragraph
numbers it has not seen. The Act's subsections are as regulations 2 and 3 cross-refer to
them (s.5(3)(c), s.5(6)(a)-(c)) and as the guidance and commentary describe them.

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
    new_year = datetime.date(year, 1, 1)
    days = {
        # New Year's Day itself, or the Monday after when it falls at a weekend.
        new_year if new_year.weekday() < 5 else _monday_on_or_after(new_year),
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


def last_day_to_answer(deadline):
    """The day the poster's deadline is the end of: what the notice names ("midnight at the
    end of Saturday 7 March"), not the day the deadline's midnight begins."""
    return (timezone.localtime(deadline, LONDON) - datetime.timedelta(days=1)).date()


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
