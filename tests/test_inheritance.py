"""`{% extends %}` (core/templatetags/inheritance.py) renders as Django's own does, and finds
the root template's blocks once per compiled template, not on every render."""

import hashlib
import inspect

import pytest
from django.template import Context, Engine, TemplateSyntaxError, loader_tags
from django.template.base import NodeList

TEMPLATES = {
    "root.html": "<title>{% block title %}Site{% endblock %}</title>"
    "{% if show %}<main>{% block content %}root{% endblock %}</main>{% endif %}"
    "<footer>{% block footer %}footer{% endblock %}</footer>",
    "middle.html": '{% extends "root.html" %}{% block content %}middle {{ block.super }}'
    "{% block inner %}inner{% endblock %}{% endblock %}",
    "page.html": '{% extends "middle.html" %}{% block title %}Page – {{ block.super }}'
    "{% endblock %}{% block inner %}{{ block.super }} of {{ name }}{% endblock %}",
    "twice.html": '{% extends "root.html" %}{% extends "root.html" %}',
}


def engine(ours):
    loaders = [("django.template.loaders.locmem.Loader", TEMPLATES)]
    builtins = ["core.templatetags.inheritance"] if ours else []
    return Engine(loaders=[("django.template.loaders.cached.Loader", loaders)], builtins=builtins)


@pytest.mark.parametrize("show", [True, False])
@pytest.mark.parametrize("name", ["page.html", "middle.html", "root.html"])
def test_pages_render_as_with_djangos_extends(name, show):
    context = {"show": show, "name": "<Barnet>"}
    ours = engine(ours=True).get_template(name).render(Context(context))
    django = engine(ours=False).get_template(name).render(Context(context))
    assert ours == django
    if name == "page.html" and show:
        assert ours == (
            "<title>Page – Site</title><main>middle rootinner of &lt;Barnet&gt;</main>"
            "<footer>footer</footer>"
        )


def test_the_root_templates_blocks_are_found_once(monkeypatch):
    template = engine(ours=True).get_template("page.html")
    walks = []
    walk = NodeList.get_nodes_by_type

    def counting(self, nodetype):
        walks.append(nodetype.__name__)
        return walk(self, nodetype)

    monkeypatch.setattr(NodeList, "get_nodes_by_type", counting)
    first = template.render(Context({"show": True, "name": "a"}))
    found = len(walks)
    assert found > 0
    for _ in range(3):
        assert template.render(Context({"show": True, "name": "a"})) == first
    assert len(walks) == found


def test_extends_twice_is_the_same_error():
    with pytest.raises(TemplateSyntaxError, match="cannot appear more than once"):
        engine(ours=True).get_template("twice.html")


def test_djangos_render_is_the_one_repeated():
    """Ours repeats Django 5.2's ExtendsNode.render(): if Django's changes (an upgrade), repeat
    the new one in core/templatetags/inheritance.py, then put its digest here."""
    source = inspect.getsource(loader_tags.ExtendsNode.render)
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == "a5faa7f78356ce8c"
