"""Old WordPress addresses redirect (301) to where their posts, pages and authors are now,
and never to a draft or a scheduled post."""

import datetime

import pytest
from django.utils import timezone

from posts.models import Post
from tests.test_wordpress_import import SEED, export, item, run, write
from wordpress.models import ImportedObject

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(tmp_path):
    future = (timezone.now() + datetime.timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    items = (
        # Published at 23:30 GMT on 30 June: 1 July in London, so the old date URL differs.
        item(1, post_date="2011-06-30 23:30:00", post_date_gmt="2011-06-30 23:30:00")
        + item(2, status="draft")
        + item(3, status="future", post_date_gmt=future)
        + item(4, post_type="page", post_name="contact", title="Contact")
    )
    run(write(tmp_path, export(items)))
    return {int(r.wp_id): r.target for r in ImportedObject.objects.exclude(kind="author")}


def test_plain_post_and_page_links_redirect_permanently(client, imported):
    response = client.get("/?p=1")
    assert response.status_code == 301
    assert response["Location"] == imported[1].get_absolute_url()
    assert client.get("/?page_id=4")["Location"] == "/contact/"


def test_a_wordpress_date_permalink_in_another_time_zone_redirects(client, imported):
    post = imported[1]
    assert post.get_absolute_url().startswith("/2011/07/01/")
    response = client.get("/2011/06/30/post-1/")
    assert response.status_code == 301
    assert response["Location"] == post.get_absolute_url()
    assert client.get(post.get_absolute_url()).status_code == 200


def test_author_pages_redirect_from_the_login_to_the_public_slug(client, imported):
    author = imported[1].author
    response = client.get("/author/cllr/")
    assert response.status_code == 301
    assert response["Location"] == author.get_absolute_url()
    assert author.slug != "cllr"


@pytest.mark.parametrize("wp_id", [2, 3])
def test_drafts_and_scheduled_posts_are_never_revealed(client, imported, wp_id):
    response = client.get(f"/?p={wp_id}")
    assert response.status_code == 200  # the home page, as for any unknown id
    # Not its address (a bare "post-2" could be another post's element id, `post-2-title`).
    assert f"/{imported[wp_id].slug}/" not in response.content.decode()
    old = f"/2011/06/30/post-{wp_id}/"
    assert client.get(old).status_code == 404


def test_an_unknown_id_is_the_home_page(client, imported):
    assert client.get("/?p=999").status_code == 200


def test_an_attachment_link_goes_to_the_post_that_shows_it(client, tmp_path):
    from tests.test_images import camera_photo

    folder = tmp_path / "uploads" / "2011" / "06"
    folder.mkdir(parents=True)
    (folder / "town-hall.jpg").write_bytes(camera_photo((400, 300)))
    run(SEED, "--media-dir", str(tmp_path / "uploads"))
    response = client.get("/?attachment_id=413")
    assert response.status_code == 301
    assert response["Location"] == Post.objects.get().get_absolute_url()
