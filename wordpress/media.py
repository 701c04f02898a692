"""A copy of `wp-content/uploads` for the admin import: a zip unpacked with care, or a folder
on the server under the one folder the settings allow.

A zip comes from a browser, so it is read as hostile: names that climb out (`../`, absolute
paths, drive letters: "zip slip"), symbolic links, encrypted members and zip bombs (too many
files, too many bytes, or an impossible compression ratio, checked again while unpacking
since a zip's own sizes may lie) are refused with a one-line reason, and the folder it was
being unpacked into is removed: nothing is left behind.
"""

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings

CHUNK = 1024 * 1024
# Pictures and documents hardly compress; a member that shrank more than this is a bomb.
MAX_RATIO = 200
# What a zip of the folder (or of wp-content) may wrap the uploads in.
WRAPPERS = (("wp-content", "uploads"), ("uploads",))


class MediaRefused(Exception):
    """The media cannot be used; the message says why, in one line."""


def unpack_uploads(source, folder, *, max_bytes=None, max_files=None):
    """Unpack the zip `source` (a path or a file object) into the new folder `folder` and
    return the folder that holds the uploads (`2011/06/photo.jpg`…). Raises MediaRefused,
    after removing `folder`."""
    max_bytes = settings.WORDPRESS_MEDIA_ZIP_MAX_BYTES if max_bytes is None else max_bytes
    max_files = settings.WORDPRESS_MEDIA_ZIP_MAX_FILES if max_files is None else max_files
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True)
    try:
        _unpack(source, folder.resolve(), max_bytes, max_files)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _unpack(source, root, max_bytes, max_files):
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise MediaRefused("the media file is not a zip archive.") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > max_files:
            raise MediaRefused(
                f"the zip holds {len(members):,} files; at most {max_files:,} are accepted."
            )
        declared = sum(info.file_size for info in members)
        if declared > max_bytes:
            raise MediaRefused(
                f"the zip unpacks to {declared:,} bytes; at most {max_bytes:,} are accepted."
            )
        names = [_safe_name(info) for info in members]
        wrapper = _wrapper(names)
        total = 0
        for info, parts in zip(members, names, strict=True):
            if parts[: len(wrapper)] != wrapper:
                continue  # wp-content's themes and plugins: not ours to keep
            parts = parts[len(wrapper) :]
            if not parts or parts[0] in ("__MACOSX",) or parts[-1] == ".DS_Store":
                continue
            target = root.joinpath(*parts)
            if not target.resolve().is_relative_to(root):  # belt and braces
                raise MediaRefused(f"{info.filename!r} would be written outside the folder.")
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            written = 0
            try:
                with archive.open(info) as member, target.open("xb") as out:
                    while chunk := member.read(CHUNK):
                        written += len(chunk)
                        total += len(chunk)
                        if written > info.file_size or total > max_bytes:
                            raise MediaRefused(
                                f"{info.filename!r} unpacks to more than the zip says: refused."
                            )
                        out.write(chunk)
            except FileExistsError:
                raise MediaRefused(f"{info.filename!r} is in the zip twice.") from None
            except (zipfile.BadZipFile, EOFError, NotImplementedError, ValueError) as error:
                raise MediaRefused(f"{info.filename!r} cannot be unpacked ({error}).") from None
            except RuntimeError:  # zipfile's "password required"
                raise MediaRefused(f"{info.filename!r} is encrypted.") from None


def _safe_name(info):
    """The member's path parts, or MediaRefused for a link, a secret or a climb out."""
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise MediaRefused(f"{name!r} is a symbolic link: links are refused.")
    if info.flag_bits & 0x1:
        raise MediaRefused(f"{name!r} is encrypted.")
    path = PurePosixPath(name.replace("\\", "/"))
    parts = path.parts
    if (
        path.is_absolute()
        or not parts
        or ".." in parts
        or (parts[0].endswith(":"))  # C:/…
        or any("\x00" in part for part in parts)
    ):
        raise MediaRefused(f"{name!r} climbs out of the uploads folder: refused.")
    if (
        info.file_size
        and info.compress_size
        and info.file_size > MAX_RATIO * max(info.compress_size, 1024)
    ):
        raise MediaRefused(f"{name!r} is compressed beyond belief (a zip bomb?): refused.")
    return parts


def _wrapper(names):
    """The folders around the uploads: those every member shares (`uploads/…`), or, in a
    zip of the whole of `wp-content`, its `uploads` (the themes and plugins are skipped)."""
    for wrapper in WRAPPERS:
        if names and all(parts[: len(wrapper)] == wrapper for parts in names):
            return wrapper
    inside = WRAPPERS[0]
    if any(parts[: len(inside)] == inside for parts in names):
        return inside
    return ()


def server_folder(text):
    """The folder on the server named by `text`, which must lie inside
    `WORDPRESS_MEDIA_SERVER_ROOT` (relative to it, or absolute); raises MediaRefused."""
    root = settings.WORDPRESS_MEDIA_SERVER_ROOT
    if not root:
        raise MediaRefused("no server folder is set for media (BARNETBLOG_WORDPRESS_MEDIA_ROOT).")
    root = Path(root).resolve()
    if "\x00" in text:
        raise MediaRefused("that is not a folder name.")
    folder = (root / text.strip()).resolve()
    if not folder.is_relative_to(root):
        raise MediaRefused(f"the folder must be inside {root}.")
    if not folder.is_dir():
        raise MediaRefused(f"there is no folder {folder} on the server.")
    return folder
