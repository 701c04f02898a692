"""Backups: the database and the uploaded files, together, and their restore.

A backup is one folder:

- `database.dump`: `pg_dump --format=custom` of the PostgreSQL database (or a copy of the SQLite
  file, made with SQLite's online backup, as `database.sqlite3`);
- `media.tar.gz`: every file under MEDIA_ROOT (pictures, renditions, attachments);
- `manifest.json`: when, which database engine, and each file's size and SHA-256, so a restore
  can prove it put back every byte.

`manage.py backup` writes one; `manage.py restore_backup` puts one back into an **empty**
database and an empty media folder (it refuses otherwise: a restore never merges into live
data). The restore drill in tests/test_backups.py does both and finds every post, comment and
file. See README, "Running it in production".
"""

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.db import connections

MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"


class BackupError(Exception):
    pass


def _pg_environment(db):
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _pg_target(db):
    args = ["--host", db.get("HOST") or "127.0.0.1", "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    return args


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_files(root):
    root = Path(root)
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): {"size": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def backup(folder, alias="default"):
    """Write a backup of database `alias` and MEDIA_ROOT into `folder` (created; must be new or
    empty). Returns the manifest."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: a backup goes into a folder of its own.")
    folder.mkdir(parents=True, exist_ok=True)
    db = connections[alias].settings_dict
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        dump = folder / "database.dump"
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                   *_pg_target(db), "--file", str(dump), db["NAME"]]  # fmt: skip
        result = subprocess.run(  # noqa: S603 - pg_dump/pg_restore, arguments from settings
            command, env=_pg_environment(db), capture_output=True, text=True
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    elif vendor == "sqlite":
        dump = folder / "database.sqlite3"
        name = str(db["NAME"])
        source = sqlite3.connect(name, uri=name.startswith("file:"))  # the test database
        target = sqlite3.connect(dump)
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        raise BackupError(f"Backups of {vendor} databases are not supported.")

    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(folder / MEDIA_ARCHIVE, "w:gz") as archive:
        if media_root.exists():
            archive.add(media_root, arcname="media")
    manifest = {
        "made_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "engine": vendor,
        "database": {"file": dump.name, "size": dump.stat().st_size, "sha256": _sha256(dump)},
        "media": media_files(media_root),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(folder, alias="default"):
    """Put the backup in `folder` back into database `alias` (which must have no tables) and
    MEDIA_ROOT (which must be empty). Returns the manifest, every file checked."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder} holds no readable backup ({error}).") from None
    dump = folder / manifest["database"]["file"]
    if _sha256(dump) != manifest["database"]["sha256"]:
        raise BackupError(f"{dump.name} does not match the manifest: the backup is damaged.")
    connection = connections[alias]
    if connection.introspection.table_names():
        raise BackupError(
            f"The database {connection.settings_dict['NAME']!r} already has tables: restore "
            "into an empty database (createdb a new one), never over live data."
        )
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(f"The media folder {media_root} is not empty.")
    if manifest["engine"] != connection.vendor:
        raise BackupError(f"This is a {manifest['engine']} backup; the database is not.")

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        connection.close()
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                   *_pg_target(db), "--dbname", db["NAME"], str(dump)]  # fmt: skip
        result = subprocess.run(  # noqa: S603 - pg_dump/pg_restore, arguments from settings
            command, env=_pg_environment(db), capture_output=True, text=True
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    else:
        connection.close()
        shutil.copyfile(dump, db["NAME"])

    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / MEDIA_ARCHIVE, "r:gz") as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("media/")]
        for member in members:
            member.name = member.name.removeprefix("media/")
        archive.extractall(media_root, members=[m for m in members if m.name], filter="data")
    restored = media_files(media_root)
    missing = sorted(set(manifest["media"]) - set(restored))
    changed = sorted(
        name
        for name in manifest["media"]
        if name in restored and restored[name] != manifest["media"][name]
    )
    if missing or changed:
        raise BackupError(f"Files not restored intact: missing {missing}, changed {changed}.")
    return manifest
