"""House rules get their text, and become the one source of the rules.

The house rules page used to spell the rules out in its own text, beside the HouseRule rows
that removals cite; the privacy notice spelled out retention periods that settings decide.
Both pages now hold a marker line where the site renders the real thing (the rules from the
database, the periods from settings). A page the councillor has already edited is left as
it is: the site then adds the rules or periods at its end.
"""

from django.db import migrations, models

RULE_TEXTS = {
    1: "Criticise ideas and decisions, not people. No personal abuse, threats or harassment.",
    2: "Nothing that attacks people for their race, religion, sex, sexual orientation, gender "
    "identity, disability or age.",
    3: "No defamatory statements presented as fact, nothing in contempt of court, and nothing "
    "that breaks copyright.",
    4: "Do not post anyone's personal details: addresses, phone numbers, email addresses, case "
    "or account numbers, including your own. For a personal case, contact the councillor "
    "privately.",
    5: "Comments should relate to the post.",
    6: "No commercial promotion or repeated posting of the same message.",
    7: "Do not pretend to be someone else.",
}

HOUSE_RULES_MARKER = "[house rules]"
RETENTION_MARKER = "[retention periods]"

# The text the shipped pages had (posts/migrations/0002), replaced by the markers.
OLD_RULES = """\
1. **Be civil.** Criticise ideas and decisions, not people. No personal abuse, threats or
   harassment.
2. **No hate.** Nothing that attacks people for their race, religion, sex, sexual orientation,
   gender identity, disability or age.
3. **Keep it lawful.** No defamatory statements presented as fact, nothing in contempt of court,
   and nothing that breaks copyright.
4. **Protect privacy.** Do not post anyone's personal details: addresses, phone numbers, email
   addresses, case or account numbers, including your own. For a personal case, contact the
   councillor privately.
5. **Stay on topic.** Comments should relate to the post.
6. **No spam or advertising.** No commercial promotion or repeated posting of the same message.
7. **No impersonation.** Do not pretend to be someone else.
"""
OLD_RETENTION = """\
Published comments stay until you ask us to remove them or a moderator removes them.
IP addresses are deleted 90 days after the comment was posted. A comment whose author never
confirmed their email address is deleted, with its details, once the confirmation link expires
(after 7 days). *(Draft: the councillor should check these periods and add how long email
addresses are kept.)*
"""
NEW_RETENTION = f"""\
{RETENTION_MARKER}

*(Draft: the councillor should add how long email addresses are kept.)*
"""


def forwards(apps, schema_editor):
    HouseRule = apps.get_model("comments", "HouseRule")
    for number, text in RULE_TEXTS.items():
        HouseRule.objects.filter(number=number, text="").update(text=text)
    FlatPage = apps.get_model("flatpages", "FlatPage")
    for url, old, new in [
        ("/house-rules/", OLD_RULES, HOUSE_RULES_MARKER + "\n"),
        ("/privacy/", OLD_RETENTION, NEW_RETENTION),
    ]:
        for page in FlatPage.objects.filter(url=url):
            if old in page.content:
                page.content = page.content.replace(old, new)
                page.save(update_fields=["content"])


def backwards(apps, schema_editor):
    FlatPage = apps.get_model("flatpages", "FlatPage")
    for url, old, new in [
        ("/house-rules/", OLD_RULES, HOUSE_RULES_MARKER + "\n"),
        ("/privacy/", OLD_RETENTION, NEW_RETENTION),
    ]:
        for page in FlatPage.objects.filter(url=url):
            if new in page.content:
                page.content = page.content.replace(new, old)
                page.save(update_fields=["content"])


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0002_rules_groups_settings"),
        ("flatpages", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="houserule",
            name="text",
            field=models.TextField(
                blank=True,
                help_text="What the rule means, in plain text, as the house rules page shows it.",
                max_length=1000,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
