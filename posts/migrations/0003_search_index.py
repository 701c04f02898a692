"""The GIN index behind full-text search, on PostgreSQL only (SQLite has no tsvector)."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS post_search_vector_gin "
            "ON posts_post USING gin (search_vector)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS post_search_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("posts", "0002_authors_group_and_pages")]

    operations = [migrations.RunPython(create_index, drop_index)]
