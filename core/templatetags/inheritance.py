"""`{% extends %}` that finds a root template's blocks once, not on every render.

Django's `ExtendsNode.render()` walks the whole of the root template's nodes (base.html's
hundred or so, through every `{% if %}` and `{% block %}`) to find its blocks, on every
render of every page that extends it: about 50 µs a page. A compiled template does not
change (the cached loader keeps it; with DEBUG on each load compiles a new one), so the
blocks found are kept on it.

A builtin of the template engine (settings.TEMPLATES), loaded after Django's own, so every
`{% extends %}` is this one, the admin's included. It parses with Django's own function (the
same errors). Its `render()` repeats Django 5.2's `ExtendsNode.render()`, twenty lines,
rather than calling it, since the walk to avoid is in its middle: tests/test_inheritance.py
holds it to the output of Django's tag, and fails when Django's `render()` changes, to have
it repeated again.
"""

from django import template
from django.template import loader_tags
from django.template.base import TextNode
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext, BlockNode

register = template.Library()


class ExtendsNode(loader_tags.ExtendsNode):
    def render(self, context):
        compiled_parent = self.get_parent(context)
        if BLOCK_CONTEXT_KEY not in context.render_context:
            context.render_context[BLOCK_CONTEXT_KEY] = BlockContext()
        block_context = context.render_context[BLOCK_CONTEXT_KEY]
        block_context.add_blocks(self.blocks)
        # A parent that extends nothing is the root: its blocks go in too.
        for node in compiled_parent.nodelist:
            if not isinstance(node, TextNode):
                if not isinstance(node, loader_tags.ExtendsNode):
                    block_context.add_blocks(root_blocks(compiled_parent))
                break
        with context.render_context.push_state(compiled_parent, isolated_context=False):
            return compiled_parent._render(context)


def root_blocks(compiled):
    """{name: BlockNode} of a compiled template, found once. (`add_blocks()` only reads it.)"""
    blocks = compiled.__dict__.get("_blocks_found")
    if blocks is None:
        found = compiled.nodelist.get_nodes_by_type(BlockNode)
        blocks = compiled._blocks_found = {node.name: node for node in found}
    return blocks


@register.tag("extends")
def do_extends(parser, token):
    node = loader_tags.do_extends(parser, token)
    return ExtendsNode(node.nodelist, node.parent_name)
