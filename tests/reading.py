"""Reading pages as a browser lays them out: shared by the tests that check comment threads."""

from html.parser import HTMLParser


class CommentTree(HTMLParser):
    """A page's comments as the browser nests them: `parents` maps each comment id to the id
    of the comment it sits under (None at the top level), `classes` to its CSS classes."""

    def __init__(self, page):
        super().__init__()
        self.parents, self.classes, self._open = {}, {}, []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag != "li":
            return
        attrs = dict(attrs)
        comment_id = (attrs.get("id") or "").removeprefix("comment-")
        if comment_id.isdigit():
            enclosing = next((c for c in reversed(self._open) if c is not None), None)
            self.parents[int(comment_id)] = enclosing
            self.classes[int(comment_id)] = (attrs.get("class") or "").split()
            self._open.append(int(comment_id))
        else:
            self._open.append(None)

    def handle_endtag(self, tag):
        if tag == "li" and self._open:
            self._open.pop()
