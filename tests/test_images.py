"""Pictures a councillor uploads: only real, reasonably sized images are accepted, and what is
published is a fresh copy without location, camera or other hidden details.
"""

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image as PILImage
from PIL import ImageCms, ImageDraw, PngImagePlugin

from posts import images
from posts.forms import ImageForm
from posts.models import Image
from tests.factories import image_bytes, upload

NOT_A_PICTURE = "This is not a picture we can use. Upload a JPEG, PNG, WebP or GIF image."
DAMAGED = "This picture is damaged or incomplete. Try saving it again and re-uploading."
TOO_MANY_PIXELS = "This picture is too large. The most we accept is 40 megapixels"

CAMERA_MAKE = "SpyCam Industries"
HOME_ADDRESS = b"Taken at 12 Acacia Avenue"

# EXIF tags
MAKE, MODEL, ORIENTATION, GPS_INFO = 0x010F, 0x0110, 0x0112, 0x8825


def image_form(data, name="picture.jpg", content_type="image/jpeg", **fields):
    """The admin's upload form, bound to one uploaded file."""
    values = {"title": "Town hall", "alt_text": "The town hall in spring", **fields}
    return ImageForm(data=values, files={"file": upload(data, name, content_type)})


def encode(picture, fmt, **save_kwargs):
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


def png_claiming_size(width, height):
    """A tiny PNG whose header claims `width` × `height` pixels (its pixel data is 1×1).

    Building the file by hand means the test itself never allocates the huge picture.
    """
    data = bytearray(encode(PILImage.new("1", (1, 1)), "PNG"))
    # Signature (8 bytes), then the IHDR chunk: length (4), b"IHDR", 13 bytes of data, CRC (4).
    assert data[12:16] == b"IHDR"
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def stored_files(image):
    """The stored original and every rendition, as (name, bytes)."""
    names = [image.file.name, *(r["name"] for r in image.renditions)]
    result = []
    for name in names:
        with default_storage.open(name) as handle:
            result.append((name, handle.read()))
    return result


def files_under(folder):
    folder = Path(folder)
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def save_form(form):
    assert form.is_valid(), form.errors
    return form.save()


# --- Wrong kinds of file are refused with a message a person can act on -----------------------


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        pytest.param(b"Dear councillor, ...", "letter.jpg", "image/jpeg", id="text-named-jpg"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="steal()">'
            b"<script>steal()</script></svg>",
            "logo.svg",
            "image/svg+xml",
            id="svg-with-script",
        ),
        pytest.param(
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
            "logo.png",
            "image/png",
            id="svg-named-png",
        ),
        pytest.param(image_bytes("BMP", size=(50, 50)), "scan.bmp", "image/bmp", id="bmp"),
        pytest.param(image_bytes("TIFF", size=(50, 50)), "scan.tiff", "image/tiff", id="tiff"),
        pytest.param(
            image_bytes("TIFF", size=(50, 50)), "scan.jpg", "image/jpeg", id="tiff-named-jpg"
        ),
        pytest.param(b"%PDF-1.7\n...", "leaflet.jpg", "image/jpeg", id="pdf-named-jpg"),
        pytest.param(b"", "empty.jpg", "image/jpeg", id="empty"),
    ],
)
@pytest.mark.django_db
def test_files_that_are_not_jpeg_png_webp_or_gif_are_refused(data, name, content_type):
    form = image_form(data, name, content_type)
    assert not form.is_valid()
    if data:
        assert form.errors["file"] == [NOT_A_PICTURE]
    else:  # Django's own check for an empty upload comes first
        assert form.errors["file"]


def test_a_picture_over_40_megapixels_is_refused():
    # 8000 × 6000 = 48 megapixels; one bit per pixel and all black, so a small file.
    data = encode(PILImage.new("1", (8000, 6000)), "PNG", optimize=True)
    assert len(data) < 100_000
    with pytest.raises(ValidationError) as caught:
        images.process_upload(upload(data, "huge.png", "image/png"))
    assert caught.value.code == "too_many_pixels"
    assert TOO_MANY_PIXELS in caught.value.messages[0]
    assert "megapixels" in caught.value.messages[0]


@pytest.mark.django_db
def test_the_too_many_pixels_error_is_shown_on_the_form():
    data = encode(PILImage.new("1", (8000, 6000)), "PNG", optimize=True)
    form = image_form(data, "huge.png", "image/png")
    assert not form.is_valid()
    assert form.errors["file"][0].startswith(TOO_MANY_PIXELS)


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(monkeypatch):
    data = png_claiming_size(20_000, 10_000)  # 200 megapixels: over Pillow's own hard limit
    assert len(data) < 200

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    with pytest.raises(ValidationError) as caught:
        images.process_upload(upload(data, "bomb.png", "image/png"))
    assert caught.value.code == "too_many_pixels"
    assert TOO_MANY_PIXELS in caught.value.messages[0]


def test_a_header_just_over_our_limit_is_refused_without_decoding(monkeypatch):
    data = png_claiming_size(8000, 5001)  # 40,008,000 pixels

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    with pytest.raises(ValidationError) as caught:
        images.process_upload(upload(data, "big.png", "image/png"))
    assert caught.value.code == "too_many_pixels"


def test_a_truncated_jpeg_is_refused_as_damaged():
    noise = PILImage.frombytes("RGB", (600, 400), os.urandom(600 * 400 * 3))
    data = encode(noise, "JPEG", quality=90)
    with pytest.raises(ValidationError) as caught:
        images.process_upload(upload(data[: len(data) // 2], "holiday.jpg"))
    assert caught.value.messages == [DAMAGED]


@pytest.mark.django_db
def test_a_damaged_jpeg_error_is_shown_on_the_form():
    noise = PILImage.frombytes("RGB", (600, 400), os.urandom(600 * 400 * 3))
    data = encode(noise, "JPEG", quality=90)
    form = image_form(data[: len(data) // 2])
    assert not form.is_valid()
    assert form.errors["file"] == [DAMAGED]


@pytest.mark.django_db
def test_an_upload_over_the_size_limit_is_refused_before_it_is_opened(settings, monkeypatch):
    settings.IMAGE_MAX_UPLOAD_BYTES = 1000
    data = image_bytes(size=(400, 300))
    assert len(data) > 1000
    monkeypatch.setattr(
        PILImage, "open", lambda *a, **k: pytest.fail("an over-size upload was opened")
    )
    form = image_form(data)
    assert not form.is_valid()
    (message,) = form.errors["file"]
    assert "the largest we accept is 1000\xa0bytes" in message


# --- What is published carries no hidden details ----------------------------------------------


def camera_photo(size=(2000, 1500), **extra_exif):
    """A JPEG as a phone writes it: camera make and model, GPS position, comment, ICC profile."""
    exif = PILImage.Exif()
    exif[MAKE] = CAMERA_MAKE
    exif[MODEL] = "Pocket 9 Pro"
    exif[GPS_INFO] = {
        1: "N",
        2: (51.0, 39.0, 10.5),
        3: "W",
        4: (0.0, 11.0, 58.2),
    }
    for tag, value in extra_exif.items():
        exif[int(tag)] = value
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture = PILImage.new("RGB", size, "#5a8f3c")
    return encode(picture, "JPEG", exif=exif, comment=HOME_ADDRESS, icc_profile=icc)


def test_the_test_photo_really_carries_the_details_we_strip():
    data = camera_photo()
    with PILImage.open(io.BytesIO(data)) as photo:
        assert photo.getexif()[MAKE] == CAMERA_MAKE
        assert photo.getexif().get_ifd(GPS_INFO)[1] == "N"
        assert photo.info["comment"] == HOME_ADDRESS
        assert "icc_profile" in photo.info
    assert CAMERA_MAKE.encode() in data


@pytest.mark.django_db
def test_location_camera_comment_and_colour_profile_are_removed_from_every_stored_file():
    image = save_form(image_form(camera_photo()))
    files = stored_files(image)
    assert len(files) == 5  # the original and four renditions
    for name, data in files:
        with PILImage.open(io.BytesIO(data)) as stored:
            assert stored.format == "JPEG", name
            assert len(stored.getexif()) == 0, name
            assert stored.getexif().get_ifd(GPS_INFO) == {}, name
            assert "exif" not in stored.info, name
            assert "comment" not in stored.info, name
            assert "icc_profile" not in stored.info, name
            assert "xmp" not in stored.info, name
        assert CAMERA_MAKE.encode() not in data, name
        assert b"Pocket 9 Pro" not in data, name
        assert HOME_ADDRESS not in data, name


@pytest.mark.django_db
def test_png_text_chunks_colour_profile_and_exif_are_removed():
    details = PngImagePlugin.PngInfo()
    details.add_text("Author", CAMERA_MAKE)
    details.add_text("Comment", HOME_ADDRESS.decode())
    exif = PILImage.Exif()
    exif[MAKE] = CAMERA_MAKE
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture = PILImage.new("RGBA", (1000, 500), (20, 40, 60, 128))
    data = encode(picture, "PNG", pnginfo=details, exif=exif, icc_profile=icc)
    assert CAMERA_MAKE.encode() in data

    image = save_form(image_form(data, "chart.png", "image/png"))
    for name, stored_data in stored_files(image):
        with PILImage.open(io.BytesIO(stored_data)) as stored:
            assert stored.format == "PNG", name
            assert len(stored.getexif()) == 0, name
            assert set(stored.info) <= {"dpi", "gamma", "transparency", "aspect"}, name
        assert CAMERA_MAKE.encode() not in stored_data, name
        assert HOME_ADDRESS not in stored_data, name


@pytest.mark.django_db
def test_html_appended_to_a_picture_is_not_published():
    """A picture-and-web-page polyglot: the re-encoded copy keeps only the pixels."""
    data = image_bytes(size=(600, 400)) + b"<html><script>steal()</script></html>"
    image = save_form(image_form(data))
    for name, stored_data in stored_files(image):
        assert b"<script>" not in stored_data, name


@pytest.mark.django_db
def test_a_sideways_phone_photo_is_turned_upright():
    # Stored landscape (400 × 300) with a red band along the top; orientation 6 tells viewers
    # to turn it 90° clockwise, so the reader should see a portrait picture, band on the right.
    picture = PILImage.new("RGB", (400, 300), "blue")
    ImageDraw.Draw(picture).rectangle([0, 0, 399, 59], fill="red")
    exif = PILImage.Exif()
    exif[ORIENTATION] = 6
    data = encode(picture, "JPEG", exif=exif, quality=95)

    image = save_form(image_form(data))
    assert (image.width, image.height) == (300, 400)
    for name, stored_data in stored_files(image):
        with PILImage.open(io.BytesIO(stored_data)) as stored:
            assert stored.width < stored.height, name
            assert ORIENTATION not in stored.getexif(), name  # not rotated twice by viewers
            rgb = stored.convert("RGB")
            right = rgb.getpixel((rgb.width - 5, rgb.height // 2))
            left = rgb.getpixel((5, rgb.height // 2))
            assert right[0] > 200 and right[2] < 60, (name, right)
            assert left[2] > 200 and left[0] < 60, (name, left)


# --- Renditions for every screen --------------------------------------------------------------


@pytest.mark.django_db
def test_a_wide_picture_gets_480_960_and_1600_pixel_renditions():
    image = save_form(image_form(image_bytes(size=(2000, 1000))))
    widths = [r["width"] for r in image.renditions]
    assert widths == [480, 960, 1600, 2000]
    assert [r["height"] for r in image.renditions] == [240, 480, 800, 1000]
    assert (image.width, image.height) == (2000, 1000)
    for rendition in image.renditions:
        with default_storage.open(rendition["name"]) as handle, PILImage.open(handle) as stored:
            assert stored.size == (rendition["width"], rendition["height"])
    assert image.default_rendition["width"] == 960
    assert "480w" in image.srcset and "1600w" in image.srcset


@pytest.mark.django_db
def test_a_narrow_picture_is_never_enlarged():
    image = save_form(image_form(image_bytes(size=(700, 350))))
    widths = [r["width"] for r in image.renditions]
    assert widths == [480, 700]
    assert max(widths) <= 700
    assert image.width == 700


@pytest.mark.django_db
def test_a_very_wide_picture_is_stored_at_most_2400_pixels_wide():
    image = save_form(image_form(image_bytes(size=(3000, 1000))))
    assert (image.width, image.height) == (2400, 800)
    assert [r["width"] for r in image.renditions] == [480, 960, 1600, 2400]


@pytest.mark.django_db
def test_a_png_with_transparency_stays_a_transparent_png():
    picture = PILImage.new("RGBA", (800, 400), (0, 0, 0, 0))
    ImageDraw.Draw(picture).rectangle([0, 0, 399, 399], fill=(200, 0, 0, 255))
    image = save_form(image_form(encode(picture, "PNG"), "logo.png", "image/png"))
    assert image.file.name.endswith("/original.png")
    for name, data in stored_files(image):
        assert name.endswith(".png")
        with PILImage.open(io.BytesIO(data)) as stored:
            assert stored.format == "PNG"
            assert stored.mode == "RGBA"
            assert stored.getpixel((stored.width - 1, 0))[3] == 0  # still see-through


@pytest.mark.django_db
def test_an_opaque_png_is_stored_as_jpeg():
    image = save_form(image_form(image_bytes("PNG", size=(600, 400)), "photo.png", "image/png"))
    assert image.file.name.endswith("/original.jpg")


@pytest.mark.django_db
def test_an_animated_gif_is_accepted_as_its_first_frame():
    frames = [PILImage.new("RGB", (300, 200), colour) for colour in ("red", "blue", "green")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = save_form(image_form(data, "wave.gif", "image/gif"))
    assert (image.width, image.height) == (300, 200)
    for name, stored_data in stored_files(image):
        with PILImage.open(io.BytesIO(stored_data)) as stored:
            assert getattr(stored, "n_frames", 1) == 1, name
            red, green, blue = stored.convert("RGB").getpixel((150, 100))
            assert red > 200 and green < 60 and blue < 60, name


@pytest.mark.django_db
def test_a_webp_picture_is_accepted():
    image = save_form(image_form(image_bytes("WEBP", size=(600, 400)), "p.webp", "image/webp"))
    assert (image.width, image.height) == (600, 400)


@pytest.mark.django_db
def test_the_file_name_does_not_decide_the_format():
    """A real JPEG called .png is still a usable picture, stored with its true extension."""
    image = save_form(image_form(image_bytes(size=(600, 400)), "misnamed.png", "image/png"))
    assert image.file.name.endswith("/original.jpg")


# --- Through the real admin -------------------------------------------------------------------


def admin_upload(client, data, name="picture.jpg", content_type="image/jpeg", **fields):
    values = {
        "title": "Town hall",
        "alt_text": "The town hall in spring",
        "file": upload(data, name, content_type),
        **fields,
    }
    return client.post(reverse("admin:posts_image_add"), values)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        pytest.param(b"just some text", "notes.jpg", NOT_A_PICTURE, id="text"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>steal()</script></svg>',
            "logo.svg",
            NOT_A_PICTURE,
            id="svg",
        ),
        pytest.param(png_claiming_size(20_000, 10_000), "bomb.png", TOO_MANY_PIXELS, id="bomb"),
    ],
)
@pytest.mark.django_db
def test_admin_refuses_a_bad_file_with_the_error_shown_and_nothing_saved(
    admin_client, data, name, message
):
    response = admin_upload(admin_client, data, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["adminform"].form.errors["file"]
    assert Image.objects.count() == 0
    assert files_under(settings.MEDIA_ROOT) == []


@pytest.mark.django_db
def test_admin_does_not_write_files_when_another_field_is_wrong(admin_client):
    response = admin_upload(admin_client, image_bytes(), alt_text="")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["alt_text"]
    assert Image.objects.count() == 0
    assert files_under(settings.MEDIA_ROOT) == []


@pytest.mark.django_db
def test_admin_upload_of_a_good_picture_stores_it_with_renditions(admin_client):
    response = admin_upload(admin_client, camera_photo(size=(1200, 900)))
    assert response.status_code == 302
    image = Image.objects.get()
    assert image.title == "Town hall"
    assert image.alt_text == "The town hall in spring"
    assert (image.width, image.height) == (1200, 900)
    assert [r["width"] for r in image.renditions] == [480, 960, 1200]
    media = Path(settings.MEDIA_ROOT)
    assert (media / image.file.name).is_file()
    for rendition in image.renditions:
        assert (media / rendition["name"]).is_file()
    assert len(files_under(media)) == 4
    for path in files_under(media):
        assert CAMERA_MAKE.encode() not in path.read_bytes()


@pytest.mark.django_db
def test_admin_shows_the_markdown_to_paste_after_saving(admin_client):
    admin_upload(admin_client, image_bytes(size=(1200, 800)))
    image = Image.objects.get()
    response = admin_client.get(reverse("admin:posts_image_change", args=[image.pk]))
    assert response.status_code == 200
    assert "![The town hall in spring](/media/images/" in response.content.decode()
    assert "1200 × 800" in response.content.decode()


@pytest.mark.django_db
def test_admin_editing_the_title_keeps_the_picture(admin_client):
    admin_upload(admin_client, image_bytes(size=(700, 400)))
    image = Image.objects.get()
    before = (image.file.name, image.renditions)
    response = admin_client.post(
        reverse("admin:posts_image_change", args=[image.pk]),
        {"title": "New title", "alt_text": image.alt_text},
    )
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.title == "New title"
    assert (image.file.name, image.renditions) == before
    assert (Path(settings.MEDIA_ROOT) / image.file.name).is_file()


@pytest.mark.django_db
def test_a_stored_picture_is_served_as_an_image_readers_browsers_will_not_sniff(client):
    image = save_form(image_form(image_bytes(size=(600, 400))))
    response = client.get(image.default_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
