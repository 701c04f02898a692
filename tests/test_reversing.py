"""`reverse()` remembered (core/reversing.py) and the `{% url %}` built on it answer as Django
does, under another script prefix or URLconf too, and remember only what cannot change."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import override_settings
from django.urls import NoReverseMatch, path, set_script_prefix
from django.urls import reverse as django_reverse
from django.utils.functional import lazy
from django.utils.safestring import mark_safe

from core import reversing
from core.reversing import reverse
from core.templatetags.urls import RememberedURLNode


@pytest.fixture(autouse=True)
def forget():
    reversing._remembered.cache_clear()
    yield
    set_script_prefix("/")
    reversing._remembered.cache_clear()


CASES = [
    ("posts:home", None, None),
    ("posts:category", None, {"slug": "roads"}),
    ("posts:category", None, {"slug": mark_safe("parks-and-play")}),
    ("comments:post", [42], None),
    ("comments:permalink", None, {"pk": 7}),
    ("posts:archive-month", None, {"year": 2026, "month": "05"}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES)
def test_it_answers_as_django_does_and_remembers(name, args, kwargs):
    expected = django_reverse(name, args=args, kwargs=kwargs)
    assert reverse(name, args=args, kwargs=kwargs) == expected
    assert reverse(name, args=args, kwargs=kwargs) == expected
    assert reversing._remembered.cache_info().hits == 1


def test_the_script_prefix_is_part_of_what_it_remembers():
    assert reverse("posts:home") == "/"
    set_script_prefix("/blog/")
    assert reverse("posts:home") == "/blog/" == django_reverse("posts:home")


def test_a_value_whose_text_could_change_is_reversed_afresh():
    slug = {"value": "roads"}
    lazy_slug = lazy(lambda: slug["value"], str)()
    assert reverse("posts:category", kwargs={"slug": lazy_slug}) == "/category/roads/"
    slug["value"] = "parks"
    assert reverse("posts:category", kwargs={"slug": lazy_slug}) == "/category/parks/"
    assert reversing._remembered.cache_info().currsize == 0


def test_a_missing_view_still_raises_and_is_not_remembered():
    for _ in range(2):
        with pytest.raises(NoReverseMatch):
            reverse("posts:nothing-here")
    assert reversing._remembered.cache_info().currsize == 0


urlpatterns = [path("elsewhere/", lambda request: None, name="home")]


def test_another_urlconf_is_not_answered_from_the_old_one():
    assert reverse("posts:home") == "/"
    with override_settings(ROOT_URLCONF="tests.test_reversing"):
        with pytest.raises(NoReverseMatch):
            reverse("posts:home")
        assert reverse("home") == "/elsewhere/"
    assert reverse("posts:home") == "/"


def test_every_templates_url_tag_is_the_remembering_one():
    template = Template(
        "{% url 'posts:category' slug=slug %} {% url 'comments:post' 3 as there %}[{{ there }}]"
        "{% url 'posts:nothing-here' as nowhere %}[{{ nowhere }}]"
    )
    assert isinstance(template.nodelist[0], RememberedURLNode)
    assert template.render(Context({"slug": "parks"})) == ("/category/parks/ [/comments/post/3/][]")
    with pytest.raises(NoReverseMatch):
        Template("{% url 'posts:nothing-here' %}").render(Context())
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")


def test_the_fixed_part_of_an_address_is_what_its_last_part_follows():
    assert reversing.fixed_part("comments:reply", "7/", pk=7) == "/comments/reply/"
    assert reversing.fixed_part("comments:reply", "8/", pk=7) is None


@pytest.mark.parametrize("view", ["posts:category", "posts:tag", "posts:author"])
def test_addresses_by_slug_are_what_reverse_gives(view):
    set_script_prefix("/blog/")
    url = reversing.by_slug(view)
    for slug in ("roads", "parks-and-play", "A_1", "2026"):
        assert url(slug) == django_reverse(view, kwargs={"slug": slug})
    # What the slug converter does not match is left to reverse(): it raises as Django does.
    for slug in ("caf\u00e9", "a/b", "", "roads?x=1"):
        with pytest.raises(NoReverseMatch):
            url(slug)


def test_addresses_by_slug_of_another_shape_are_reversed_one_by_one():
    url = reversing.by_slug("posts:category-feed")  # …/<slug>/feed/: no shared head
    assert (
        url("roads")
        == "/category/roads/feed/"
        == django_reverse("posts:category-feed", kwargs={"slug": "roads"})
    )
