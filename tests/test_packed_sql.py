"""Several queries' rows in one (core/sql.py, `Packed`): each row comes back as its own
branch's, its columns in the branch's order and as the driver gives them, on SQLite and
PostgreSQL; a row is as wide as the widest branch, not as all of them together."""

import datetime

import pytest
from django.db import connection

from core.sql import Branch, Packed
from posts.models import Category, Post
from tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db


def typed(alias, model, *names):
    return tuple(
        (f"{alias}.{connection.ops.quote_name(model._meta.get_field(n).column)}",
         model._meta.get_field(n).db_type(connection))
        for n in names
    )  # fmt: skip


def run(packed, params):
    with connection.cursor() as cursor:
        cursor.execute(packed.sql, packed.params(params))
        rows = cursor.fetchall()
    assert {len(row) for row in rows} == {packed.width}
    return packed.rows_of(rows)


@pytest.fixture
def packed():
    posts, categories = Post._meta.db_table, Category._meta.db_table
    return Packed(
        {
            # integer, text, text, date and time
            "post": Branch(
                typed("p", Post, "id", "title", "slug", "published_at"),
                f" FROM {posts} p WHERE p.id = (SELECT chosen.id FROM chosen)",  # noqa: S608
            ),
            # text, integer: the same places as the post's
            "categories": Branch(typed("c", Category, "name", "id"), f" FROM {categories} c"),
            "count": Branch((("COUNT(*)", "bigint"),), f" FROM {posts} p WHERE p.title LIKE %s"),  # noqa: S608
            "first category": Branch(
                typed("c", Category, "slug"),
                f" FROM {categories} c ORDER BY c.slug LIMIT 1",  # noqa: S608
                alone=True,
            ),
            "none": Branch(typed("c", Category, "id"), f" FROM {categories} c WHERE 1 = 0"),
        },
        [("chosen", f"SELECT p.id AS id FROM {posts} p WHERE p.slug = %s")],  # noqa: S608
    )


def test_each_branch_gets_its_own_rows_in_its_own_columns(packed):
    post = PostFactory(title="Library opening hours", slug="library-hours")
    PostFactory(title="Library closes", slug="library-closes")
    CategoryFactory(name="Roads", slug="roads")
    CategoryFactory(name="Arts", slug="arts")
    found = run(packed, {"chosen": ["library-hours"], "count": ["Library%"]})
    [(pk, title, slug, published_at)] = found["post"]
    assert (pk, title, slug) == (post.pk, "Library opening hours", "library-hours")
    # (SQLite gives it naive, in UTC; or as text when the first branch's column is not one.)
    if isinstance(published_at, str):
        published_at = datetime.datetime.fromisoformat(published_at)
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=datetime.UTC)
    assert published_at == post.published_at
    assert sorted(found["categories"]) == sorted(Category.objects.values_list("name", "id"))
    assert found["count"] == [(2,)]
    assert found["first category"] == [("arts",)]
    assert found["none"] == []


def test_a_row_is_as_wide_as_the_widest_branch_when_types_allow(packed):
    # The post's four columns, the count in an integer's place, the slug in a text's.
    assert packed.width == 1 + 4
    assert packed.sql.count("UNION ALL") == 4


def test_parameters_go_in_the_order_of_the_query(packed):
    assert packed.params({"count": ["b"], "chosen": ["a"], "unknown": ["c"]}) == ["a", "b"]
