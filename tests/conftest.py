import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files go to a throw-away folder, never the developer's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def author_user(db):
    """A councillor in the Authors group, as the admin sees them."""
    from django.contrib.auth.models import Group

    from tests.factories import AuthorFactory

    author = AuthorFactory(
        display_name="Robert Rams", slug="robert-rams", user__username="robertrams"
    )
    author.user.groups.add(Group.objects.get(name="Authors"))
    return author.user
