"""Factories: posts default to published (yesterday); traits make drafts and scheduled posts."""

import datetime
import html
import io
import re

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from comments.models import Comment, HouseRule
from posts import images
from posts.models import Author, Category, Image, Post, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    user = factory.SubFactory(UserFactory, is_staff=True)
    display_name = factory.Sequence(lambda n: f"Councillor Number {n}")
    slug = factory.Sequence(lambda n: f"councillor-{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Council decision number {n}")
    author = factory.SubFactory(AuthorFactory)
    body = factory.Sequence(lambda n: f"The first paragraph of post {n}.\n\nA second paragraph.")
    status = Post.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))

    class Params:
        draft = factory.Trait(status=Post.Status.DRAFT, published_at=None)
        scheduled = factory.Trait(
            published_at=factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=3))
        )

    @factory.post_generation
    def categories(self, create, extracted, **kwargs):
        if create and extracted:
            self.categories.set(extracted)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


def image_bytes(fmt="JPEG", size=(1200, 800), colour="#336699", **save_kwargs):
    """An encoded picture made with Pillow."""
    buffer = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" and save_kwargs.pop("alpha", False) else "RGB"
    PILImage.new(mode, size, colour).save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


def upload(data, name="picture.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


class ImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Image

    title = factory.Sequence(lambda n: f"Picture {n}")
    alt_text = "The town hall on a sunny day"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        image = model_class(*args, **kwargs)
        images.store(image, images.process_upload(upload(image_bytes())))
        image.save()
        return image


class CommentFactory(factory.django.DjangoModelFactory):
    """A public comment on a published post, saved through the real model (so threading and
    the sanitised HTML are real). `parent=<comment>` makes a reply on the same post; traits
    `pending`, `unconfirmed`, `spam` and `removed` put it in those queues."""

    class Meta:
        model = Comment

    class Params:
        pending = factory.Trait(
            is_public=False, held_reason="First comment from this email address."
        )
        unconfirmed = factory.Trait(is_public=False, confirmed=False)
        spam = factory.Trait(is_public=False, is_spam=True)
        removed = factory.Trait(
            is_removed=True,
            removal_rule=factory.LazyFunction(lambda: HouseRule.objects.get(number=1)),
            moderated_at=factory.LazyFunction(timezone.now),
        )

    parent = None
    post = factory.Maybe(
        "parent",
        yes_declaration=factory.LazyAttribute(lambda c: c.parent.content_object),
        no_declaration=factory.SubFactory(PostFactory),
    )
    user_name = factory.Sequence(lambda n: f"Resident {n}")
    user_email = factory.Sequence(lambda n: f"resident{n}@example.org")
    comment = factory.Sequence(lambda n: f"Comment number {n} on the council's decision.")
    ip_address = "192.0.2.10"
    is_public = True
    confirmed = True

    @classmethod
    def _build(cls, model_class, *args, post, parent=None, **kwargs):
        return model_class.objects.build_for(post, parent=parent, **kwargs)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        comment = cls._build(model_class, *args, **kwargs)
        comment.save()
        return comment


def comment_form_data(post, **fields):
    """What a browser posts from a post's comment form (a valid security hash and timestamp,
    a resident's details), with `fields` changed; a field given as None is left out."""
    from comments.forms import CommentForm

    data = {
        **CommentForm(post).initial,
        "name": "Jane Resident",
        "email": "jane.resident@example.net",
        "url": "",
        "comment": "The car park on Station Road is full by nine every morning.",
        "honeypot": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def send_comment(client, post, ip="127.0.0.1", **fields):
    """Post the comment form of `post` as a resident at `ip` would (see comment_form_data)."""
    return client.post(
        reverse("comments:post", args=[post.pk]), comment_form_data(post, **fields), REMOTE_ADDR=ip
    )


def text(response):
    """The page as a reader sees its text (entities decoded)."""
    return html.unescape(response.content.decode())


def unsigned(content):
    """A page's HTML (bytes) without the comment form's timestamp and the hash that signs it,
    which change whenever a second passes between two renders."""
    return re.sub(rb'(name="(?:timestamp|security_hash)" value=)"[^"]*"', rb"\1", content)
