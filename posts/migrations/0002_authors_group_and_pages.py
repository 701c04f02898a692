"""The "Authors" group, the site's name, and first drafts of the footer pages.

The pages are Markdown (rendered through the one sanitiser) and meant to be edited in the
admin: they are honest starting points, not legal advice.
"""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

AUTHOR_MODELS = ["post", "category", "tag", "image", "attachment"]

ABOUT = """\
This is the blog of your local councillor: news about council decisions, what they mean for
residents, and the councillor's view of them.

Posts are written by the councillor. Residents are welcome to comment under each post; comments
are moderated under the [house rules](/house-rules/).

This site is not run by the council. For council services, contact the council directly.
"""

HOUSE_RULES = """\
Comments are welcome, including sharp criticism of the councillor and of council decisions.
Moderators apply these rules to everyone in the same way, whoever they agree with. When a
comment is removed, the page says so, with the date and the number of the rule it broke.

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

During an election period, comments may be held for longer or closed, so that the blog is not
used for campaigning on the council's behalf.

If you think a decision about your comment was wrong, reply to the email you received or contact
the councillor, and it will be looked at again by someone else where possible.
"""

PRIVACY = """\
This notice explains what personal data this blog collects, why, and your rights. The
councillor who runs this blog is the data controller for it.

# What we collect

- **When you comment:** your name, email address, website (if you give one), the text of your
  comment, the time, and your IP address.
- **When you tick "Remember me":** a cookie in your browser holding your name, email and website,
  so you do not have to type them again. We set it only if you ask.
- **When you like a post:** a cookie so that you are counted once. It holds no personal details.
- **When you sign in** (authors and moderators only): a session cookie.

This site uses no analytics, advertising or tracking, and loads nothing from other websites.

# Why, and on what basis

- Your name, website and comment are published, because you asked us to publish them.
- Your email address is **never published**. We use it to confirm your comment, to tell you about
  replies if you asked us to, and to contact you about your comment if we need to.
- Your IP address is kept to prevent spam and abuse (legitimate interests).
- Follow-up emails are sent only with your consent, and every one has a link to stop them.

# How long we keep it

Published comments stay until you ask us to remove them or a moderator removes them.
IP addresses are deleted 90 days after the comment was posted. A comment whose author never
confirmed their email address is deleted, with its details, once the confirmation link expires
(after 7 days). *(Draft: the councillor should check these periods and add how long email
addresses are kept.)*

# Your rights

You can ask for a copy of your data, for it to be corrected, or for it to be deleted; you can also
object to how we use it. We will reply within one month. If you are unhappy with our answer, you
can complain to the Information Commissioner's Office (ico.org.uk).

*This is a draft to be completed by the councillor with their contact details.*
"""

ACCESSIBILITY = """\
This statement applies to this blog. We want as many people as possible to be able to use it.
You should be able to:

- change colours, contrast levels and fonts using your browser or device settings;
- zoom in up to 400% without the text spilling off the screen;
- navigate the whole site using just a keyboard;
- use the whole site, including commenting, without JavaScript;
- use the site with a screen reader.

# How accessible this website is

We aim to meet the Web Content Accessibility Guidelines (WCAG) version 2.2 at level AA.
Every public page is checked automatically with axe-core as part of our tests, but automated
checks do not find every problem. Images in older posts may not all have good descriptions.

# Feedback and contact information

If you find a problem or need information in a different format, contact the councillor.
We aim to reply within 5 working days.

# Enforcement procedure

The Equality and Human Rights Commission (EHRC) is responsible for enforcing accessibility law.
If you are not happy with how we respond to your complaint, contact the Equality Advisory and
Support Service (EASS).

*This statement was prepared as a first draft; it should be reviewed and dated by the councillor.*
"""

PAGES = [
    ("/about/", "About this blog", ABOUT),
    ("/house-rules/", "House rules for comments", HOUSE_RULES),
    ("/privacy/", "Privacy notice", PRIVACY),
    ("/accessibility/", "Accessibility statement", ACCESSIBILITY),
]


def create_authors_group(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure ours exist now.
    app_config = apps.get_app_config("posts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Authors")
    codenames = [
        f"{action}_{model}"
        for model in AUTHOR_MODELS
        for action in ("add", "change", "delete", "view")
    ]
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="posts", codename__in=codenames)
    )


def remove_authors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Authors").delete()


def create_pages(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    FlatPage = apps.get_model("flatpages", "FlatPage")
    site, _ = Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": "localhost:8000", "name": settings.SITE_NAME}
    )
    for url, title, content in PAGES:
        page, created = FlatPage.objects.get_or_create(
            url=url, defaults={"title": title, "content": content}
        )
        page.sites.add(site)


def remove_pages(apps, schema_editor):
    apps.get_model("flatpages", "FlatPage").objects.filter(
        url__in=[url for url, _, _ in PAGES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("flatpages", "0001_initial"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [
        migrations.RunPython(create_authors_group, remove_authors_group),
        migrations.RunPython(create_pages, remove_pages),
    ]
