"""Form rendering without the template engine for the plainest widgets.

A post's page carries the comment form, and each of its dozen widgets costs a render of
Django's widget templates (an include of an include, then a loop over the attributes). For
`<input>` and `<textarea>` widgets this renderer writes the same markup in Python: every
value is escaped as the templates escape it (tests/test_fast_forms.py compares the two
renderers widget by widget). Any other widget is rendered by the templates as usual.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

_INPUTS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "email", "url", "hidden", "number", "password", "checkbox")
)
_TEXTAREA = "django/forms/widgets/textarea.html"


def _text(value):
    """What `{{ value|stringformat:'s' }}` writes: the value as text, escaped."""
    return conditional_escape(value if isinstance(value, str) else "%s" % (value,))  # noqa: UP031


def _attrs(attrs):
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}")
        if value is not True:
            out.append(f'="{_text(value)}"')
    return "".join(out)


class FastWidgetRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None and template_name in _INPUTS:
            value = widget["value"]
            shown = "" if value is None else f' value="{_text(value)}"'
            html = (
                f'<input type="{conditional_escape(widget["type"])}" '
                f'name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
            )
            return mark_safe(html)  # noqa: S308 - every part is escaped above
        if widget is not None and template_name == _TEXTAREA:
            value = widget["value"]
            html = (
                f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>'
                f"\n{conditional_escape(value) if value else ''}</textarea>"
            )
            return mark_safe(html)  # noqa: S308 - every part is escaped above
        return super().render(template_name, context, request)


fast_renderer = FastWidgetRenderer()
