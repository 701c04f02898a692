"""Uploaded pictures: validate, re-encode without metadata, and make responsive renditions.

Everything that touches an uploaded image's bytes lives here. The rules:
- Only JPEG, PNG, WebP and GIF, recognised by their content (Pillow's format allow-list),
  never by the file name. SVG and every exotic decoder are refused.
- At most `settings.IMAGE_MAX_PIXELS` (40 megapixels), checked from the header before any
  pixel is decoded, so decompression bombs cost nothing.
- What we store is a fresh encoding of the pixels: EXIF (with GPS), XMP, ICC profiles and
  JPEG/PNG comments never reach the public.
"""

import contextlib
import io
import warnings
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
JPEG_QUALITY = 82
# The stored "original" is capped too: nobody needs a 9,000-pixel-wide picture on a blog.
MAX_STORED_WIDTH = 2400

# Pillow's own bomb check only warns between 89 and 179 megapixels; make it an error, and
# make the limit ours.
PILImage.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS


@dataclass
class Encoded:
    width: int
    height: int
    data: bytes


@dataclass
class ProcessedImage:
    extension: str  # "jpg" or "png"
    original: Encoded
    renditions: list = field(default_factory=list)  # [Encoded], narrowest first


def process_upload(upload) -> ProcessedImage:
    """Validate an uploaded file and return re-encoded bytes for storage.

    Raises ValidationError with a message a person can act on.
    """
    limit = settings.IMAGE_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"This file is {filesizeformat(upload.size)}; the largest we accept is "
            f"{filesizeformat(limit)}.",
            code="file_too_big",
        )
    upload.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            picture = PILImage.open(upload, formats=ALLOWED_FORMATS)
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ValidationError(
                "This is not a picture we can use. Upload a JPEG, PNG, WebP or GIF image.",
                code="bad_format",
            ) from None
        with picture:
            width, height = picture.size
            if width <= 0 or height <= 0 or width * height > settings.IMAGE_MAX_PIXELS:
                raise _too_many_pixels(width, height)
            try:
                picture.load()  # the first frame only: animations are not kept
                upright = ImageOps.exif_transpose(picture)
            except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
                raise _too_many_pixels(width, height) from None
            except (OSError, ValueError, SyntaxError, EOFError):
                raise ValidationError(
                    "This picture is damaged or incomplete. Try saving it again and re-uploading.",
                    code="damaged",
                ) from None
    return _encode_all(upright)


def _too_many_pixels(width=None, height=None):
    limit = settings.IMAGE_MAX_PIXELS / 1_000_000
    size = f" ({width:,} × {height:,} pixels)" if width and height else ""
    return ValidationError(
        f"This picture is too large{size}. The most we accept is {limit:g} megapixels; "
        "make it smaller and upload it again.",
        code="too_many_pixels",
    )


def _encode_all(picture: PILImage.Image) -> ProcessedImage:
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or (
        picture.mode == "P" and "transparency" in picture.info
    )
    if has_alpha:
        clean = picture.convert("RGBA")
        extension = "png"
    else:
        clean = picture.convert("RGB")
        extension = "jpg"
    # A new image holding only the pixels: no info dict, so no metadata can be carried over.
    pixels_only = PILImage.new(clean.mode, clean.size)
    pixels_only.paste(clean)

    original = _encode(_fit_width(pixels_only, MAX_STORED_WIDTH), extension)
    renditions = []
    for target in sorted(settings.IMAGE_RENDITION_WIDTHS):
        if target >= pixels_only.width:
            break
        renditions.append(_encode(_fit_width(pixels_only, target), extension))
    # The widest rendition is the picture itself (capped), so every size is covered.
    renditions.append(original)
    return ProcessedImage(extension=extension, original=original, renditions=renditions)


def _fit_width(picture, width):
    if picture.width <= width:
        return picture
    height = max(1, round(picture.height * width / picture.width))
    return picture.resize((width, height), PILImage.Resampling.LANCZOS)


def _encode(picture, extension) -> Encoded:
    buffer = io.BytesIO()
    if extension == "jpg":
        picture.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        picture.save(buffer, "PNG", optimize=True)
    return Encoded(picture.width, picture.height, buffer.getvalue())


def store(image, processed: ProcessedImage):
    """Write a processed upload's files for an `Image` and fill in its dimensions."""
    folder = f"images/{image.key}"
    image.file.save(
        f"original.{processed.extension}", ContentFile(processed.original.data), save=False
    )
    image.width, image.height = processed.original.width, processed.original.height
    image.renditions = []
    for rendition in processed.renditions:
        name = default_storage.save(
            f"{folder}/{rendition.width}.{processed.extension}", ContentFile(rendition.data)
        )
        image.renditions.append(
            {"width": rendition.width, "height": rendition.height, "name": name}
        )


def discard(image):
    """Remove whatever `store()` wrote for `image` before it failed (a full disk)."""
    names = [image.file.name] if image.file else []
    names += [rendition["name"] for rendition in image.renditions or []]
    for name in names:
        with contextlib.suppress(OSError):
            default_storage.delete(name)
    image.file = None
    image.renditions = []
