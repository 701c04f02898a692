"""House rules (as on the house rules page), the discussion settings row, and the
"Moderators" group; Authors may moderate comments on their own posts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

RULES = [
    (1, "Be civil"),
    (2, "No hate"),
    (3, "Keep it lawful"),
    (4, "Protect privacy"),
    (5, "Stay on topic"),
    (6, "No spam or advertising"),
    (7, "No impersonation"),
]

MODERATOR_PERMISSIONS = [
    ("comments", "view_comment"),
    ("comments", "change_comment"),
    ("comments", "moderate_comment"),
    ("comments", "moderate_any_comment"),
    ("comments", "view_moderationevent"),
    ("comments", "view_houserule"),
    ("comments", "view_moderationsettings"),
]
AUTHOR_PERMISSIONS = [
    ("comments", "view_comment"),
    ("comments", "change_comment"),
    ("comments", "moderate_comment"),
    ("comments", "view_moderationevent"),
]


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("comments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    HouseRule = apps.get_model("comments", "HouseRule")
    for number, title in RULES:
        HouseRule.objects.get_or_create(number=number, defaults={"title": title})
    apps.get_model("comments", "ModerationSettings").objects.get_or_create(pk=1)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def grant(group, pairs):
        for app_label, codename in pairs:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )

    moderators, _ = Group.objects.get_or_create(name="Moderators")
    grant(moderators, MODERATOR_PERMISSIONS)
    authors, _ = Group.objects.get_or_create(name="Authors")
    grant(authors, AUTHOR_PERMISSIONS)


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0001_initial"),
        ("posts", "0002_authors_group_and_pages"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
