"""Backups (issue 9): `manage.py backup` then `manage.py restore_backup` into an empty
database, as an operator would run them — the restore drill. It finds every post, comment and
uploaded file, byte for byte. On PostgreSQL (pg_dump/pg_restore) and on SQLite."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from comments.models import Comment
from posts.models import Attachment, Image, Post
from tests.factories import CommentFactory, ImageFactory, PostFactory

REPO = Path(__file__).resolve().parent.parent


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, "DJANGO_SECRET_KEY": "restore-drill", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def empty_database(tmp_path):
    """A new, empty database of the same engine, dropped afterwards: (DATABASE_URL, reader)."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"

        def read(sql):
            import sqlite3

            with sqlite3.connect(path) as db:
                return db.execute(sql).fetchall()

        yield f"sqlite:///{path}", read
        return
    import psycopg2

    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    params = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"]}
    admin = psycopg2.connect(dbname="postgres", **params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')

    def read(sql):
        with psycopg2.connect(dbname=name, **params) as restored, restored.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    try:
        yield f"postgres://{db['USER']}@{params['host']}:{params['port']}/{name}", read
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.django_db(transaction=True)
def test_the_restore_drill_finds_every_post_comment_and_file(tmp_path, empty_database):
    database_url, read = empty_database
    posts = [PostFactory(title=f"Council meeting {n}") for n in range(3)]
    posts[0].image = ImageFactory(title="Town hall")
    posts[0].image_alt = "The town hall"
    posts[0].save()
    attachment = Attachment(post=posts[1], title="Minutes", position=0)
    attachment.file.save("minutes.pdf", ContentFile(b"%PDF-1.4 the minutes"), save=True)
    comments = [CommentFactory(post=post) for post in posts for _ in range(2)]
    CommentFactory(parent=comments[0], comment="A reply, threaded under the first.")
    files = {
        name: (Path(settings.MEDIA_ROOT) / name).read_bytes()
        for name in [
            posts[0].image.file.name,
            *(r["name"] for r in posts[0].image.renditions),
            attachment.file.name,
        ]
    }

    folder = tmp_path / "backup-2026-12-02"
    call_command("backup", str(folder))
    assert {p.name for p in folder.iterdir()} >= {"manifest.json", "media.tar.gz"}

    restored_media = tmp_path / "restored-media"
    result = manage(
        "restore_backup",
        str(folder),
        env={"DATABASE_URL": database_url, "DJANGO_MEDIA_ROOT": str(restored_media)},
    )
    assert result.returncode == 0, result.stderr
    assert f"{len(files)} files" in result.stdout

    post_table, comment_table = Post._meta.db_table, Comment._meta.db_table
    assert sorted(read(f"SELECT id, title FROM {post_table}")) == sorted(
        Post.objects.values_list("id", "title")
    )
    pk = Comment._meta.pk.column
    assert read(f"SELECT COUNT(*) FROM {comment_table}")[0][0] == Comment.objects.count() == 7
    restored_ids = {row[0] for row in read(f"SELECT {pk} FROM {comment_table}")}
    assert restored_ids == set(Comment.objects.values_list("pk", flat=True))
    image_table, attachment_table = Image._meta.db_table, Attachment._meta.db_table
    assert read(f"SELECT file FROM {image_table}") == [(posts[0].image.file.name,)]
    assert read(f"SELECT file FROM {attachment_table}") == [(attachment.file.name,)]
    for name, data in files.items():
        assert (restored_media / name).read_bytes() == data, name

    # The restored site serves them: migrations have nothing left to do.
    check = manage(
        "migrate", "--check", env={"DATABASE_URL": database_url, "DJANGO_MEDIA_ROOT": "/x"}
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.django_db(transaction=True)
def test_a_restore_never_goes_over_a_database_with_tables(tmp_path):
    PostFactory()
    folder = tmp_path / "backup"
    call_command("backup", str(folder))
    with pytest.raises(CommandError, match="already has tables"):
        call_command("restore_backup", str(folder))
    assert Post.objects.count() == 1


@pytest.mark.django_db
def test_a_backup_goes_into_a_folder_of_its_own(tmp_path):
    (tmp_path / "something.txt").write_text("here before")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(tmp_path))


def test_a_damaged_backup_is_refused(tmp_path, db):
    folder = tmp_path / "backup"
    call_command("backup", str(folder))
    dump = next(p for p in folder.iterdir() if p.name.startswith("database."))
    dump.write_bytes(dump.read_bytes()[:-10])
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore_backup", str(folder))
