"""/healthz: the process is alive, answered without the database, a cache or a session."""

from django.urls import reverse


def test_healthz_answers_ok_with_no_sql(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


def test_healthz_needs_no_database_at_all(client, page_cache):
    """No `db` fixture: pytest-django fails any attempt to reach the database, even to
    connect. The page cache is on and still never holds it."""
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "X-Page-Cache" not in response
    assert not response.cookies
    assert "Set-Cookie" not in response


def test_healthz_refuses_posts(client):
    assert client.post(reverse("healthz")).status_code == 405
