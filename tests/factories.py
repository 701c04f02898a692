"""Factories: posts default to published (yesterday); traits make drafts and scheduled posts."""

import datetime
import io

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image as PILImage

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
