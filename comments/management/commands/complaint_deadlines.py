"""Carry out the defamation complaint steps the clock has made due; email moderators about
any that are overdue. Run it from cron at least daily (hourly is better): see README."""

from django.core.management.base import BaseCommand

from comments import moderation_services, services


class Command(BaseCommand):
    help = (
        "Send notices of complaint that failed, remove comments whose poster did not answer "
        "by the deadline (Defamation (Operators of Websites) Regulations 2013), and alert "
        "moderators to overdue complaints."
    )

    def handle(self, *args, **options):
        overdue = moderation_services.process_complaint_deadlines()
        if overdue:
            recipients = services.moderator_emails()
            if recipients:
                services._send(
                    "OVERDUE defamation complaints",
                    "comments/email/overdue.txt",
                    {"overdue": overdue},
                    recipients,
                )
        self.stdout.write(f"{len(overdue)} complaint(s) overdue.")
