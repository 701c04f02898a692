"""What an author writes becomes safe HTML: Markdown renders, anything that could run is removed.

Everything goes through `core.sanitiser`; `Post.save()` stores its output in `body_html`,
the only HTML a template marks as safe.
"""

import pytest
from django.urls import reverse

from core import sanitiser
from core.sanitiser import first_paragraph_text, render_markdown, sanitise_html
from posts.models import EXCERPT_WORDS, Post
from tests.factories import PostFactory

# --- What could run in a reader's browser is removed ------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        "Before <script type='module'>import('https://evil.example')</script> after",
        "<scr<script>ipt>alert(1)</script>",
    ],
)
def test_script_tags_never_survive(source):
    html = render_markdown(source).lower()
    assert "<script" not in html
    assert "evil.example" not in html


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Before <script>steal()</script> after", "<p>Before  after</p>"),
        ("<style>body { display: none }</style>\n\nText", "<p>Text</p>"),
        ("<SCRIPT type='module'>\nimport('x')\n</SCRIPT >\n\nText", "<p>Text</p>"),
        ("Text\n\n<script>never closed", "<p>Text</p>"),
        # Only script and style themselves: similar-looking tags take no text with them.
        ("<style-guide>Kept</style-guide> and <scripture>kept</scripture>", "<p>Kept and kept</p>"),
    ],
)
def test_script_and_style_code_is_not_shown_to_readers_as_text(source, expected):
    """Removing the tags alone would publish the code inside them as visible text."""
    assert render_markdown(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        '<p onclick="steal()">Click me</p>',
        '<img src="/media/x.jpg" onerror="steal()" alt="x">',
        '<a href="https://example.org" onmouseover="steal()">link</a>',
        "<b ONLOAD=steal()>bold</b>",
        '<details open ontoggle="steal()">x</details>',
    ],
)
def test_event_handler_attributes_are_removed(source):
    html = render_markdown(source).lower()
    assert "steal()" not in html
    assert " on" not in html  # no onclick=, onerror=, onload=, ontoggle=…


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](jav&#x0D;ascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="  javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="&#106;&#97;&#118;&#97;script:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        "[x](data:text/html,<script>alert(1)</script>)",
        '<a href="vbscript:msgbox(1)">x</a>',
        "![x](javascript:alert(1))",
        "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
        '<img src="vbscript:msgbox(1)" alt="x">',
    ],
)
def test_dangerous_url_schemes_are_dropped_even_when_obfuscated(source):
    html = render_markdown(source).lower()
    assert "javascript" not in html
    assert "vbscript" not in html
    assert "data:" not in html
    assert "href=" not in html
    assert "src=" not in html
    # The link text or picture itself is kept: the author's words do not vanish.
    assert "<a>x</a>" in html or 'alt="x"' in html


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ('<iframe src="https://evil.example/embed"></iframe>', "<iframe"),
        ('<object data="https://evil.example/x.swf"></object>', "<object"),
        ('<embed src="https://evil.example/x.swf">', "<embed"),
        ('<p style="position:fixed;top:0">Overlay</p>', "style="),
        ("<style>body { display: none }</style>", "<style"),
        ('<svg onload="steal()"><circle r="10"/></svg>', "<svg"),
        ("<svg><script>steal()</script></svg>", "<script"),
        ("<math><mi xlink:href='javascript:alert(1)'>x</mi></math>", "<math"),
        ('<form action="https://evil.example"><input name="password"></form>', "<form"),
        ('<base href="https://evil.example/">', "<base"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "<meta"),
        ('<link rel="stylesheet" href="https://evil.example/x.css">', "<link"),
        ('<noscript><p title="</noscript><img src=x onerror=steal()>">', "onerror"),
    ],
)
def test_embedding_and_styling_elements_are_removed(source, forbidden):
    html = render_markdown(source).lower()
    assert forbidden not in html
    assert "evil.example" not in html
    assert "javascript" not in html


def test_html_comments_are_removed():
    assert render_markdown("Visible\n\n<!-- secret note to self -->") == "<p>Visible</p>"


def test_sanitise_html_applies_the_allow_list_to_html_that_did_not_come_from_markdown():
    html = sanitise_html('<h1 class="x">Title</h1><p id="p" style="color:red">Text</p>')
    assert html == "Title<p>Text</p>"


# --- What an author writes renders as they expect ---------------------------------------------


def test_headings_are_demoted_so_the_post_title_is_the_only_h1():
    html = render_markdown("# Budget\n\n## Parks\n\n### Roads\n\n###### Deepest\n\nSetext\n======")
    assert "<h1" not in html
    assert "<h2>Budget</h2>" in html
    assert "<h3>Parks</h3>" in html
    assert "<h4>Roads</h4>" in html
    assert "<h6>Deepest</h6>" in html  # h6 cannot go lower
    assert "<h2>Setext</h2>" in html


def test_emphasis_and_lists_render():
    html = render_markdown("*soft* **loud** ~~no~~\n\n- one\n- two\n\n1. first\n2. second")
    assert "<em>soft</em>" in html
    assert "<strong>loud</strong>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in html


def test_ordered_list_starting_number_is_kept():
    assert '<ol start="3">' in render_markdown("3. third\n4. fourth")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[Email me](mailto:cllr@example.org)", '<a href="mailto:cllr@example.org">Email me</a>'),
        ("[Council](http://barnet.gov.uk)", '<a href="http://barnet.gov.uk">Council</a>'),
        ("[Council](https://barnet.gov.uk)", '<a href="https://barnet.gov.uk">Council</a>'),
        ("[About](/about/)", '<a href="/about/">About</a>'),
        ("[Minutes](minutes/2024/)", '<a href="minutes/2024/">Minutes</a>'),
        ("[Up](../older/)", '<a href="../older/">Up</a>'),
        ("[Jump](#parks)", '<a href="#parks">Jump</a>'),
        (
            '[Council](https://barnet.gov.uk "Barnet Council")',
            '<a href="https://barnet.gov.uk" title="Barnet Council">Council</a>',
        ),
    ],
)
def test_safe_links_are_kept(source, expected):
    assert render_markdown(source) == f"<p>{expected}</p>"


def test_images_render_with_alt_text():
    html = render_markdown('![The town hall](/media/images/x/960.jpg "In spring")')
    assert (
        html == '<p><img alt="The town hall" src="/media/images/x/960.jpg" title="In spring"></p>'
    )


def test_tables_render():
    html = render_markdown("| Ward | Turnout |\n|---|---|\n| East | 41% |")
    assert "<table>" in html
    assert "<th>Ward</th>" in html
    assert "<td>41%</td>" in html


def test_fenced_code_is_shown_as_code_not_run():
    html = render_markdown("```\n<script>alert(1)</script>\n```")
    assert html == "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>"


def test_blockquotes_render():
    assert render_markdown("> Residents said so.") == (
        "<blockquote>\n<p>Residents said so.</p>\n</blockquote>"
    )


def test_allowed_raw_html_is_kept():
    source = (
        '<abbr title="Council Tax">CT</abbr> rose 2<sup>nd</sup> time; H<sub>2</sub>O; '
        "<del>old</del> <s>gone</s> <b>b</b> <i>i</i><br>\n\n"
        '<table><tr><th scope="col" colspan="2">Head</th></tr></table>\n\n'
        "<dl><dt>Term</dt><dd>Meaning</dd></dl>"
    )
    html = render_markdown(source)
    for kept in [
        '<abbr title="Council Tax">CT</abbr>',
        "<sup>nd</sup>",
        "<sub>2</sub>",
        "<del>old</del>",
        "<s>gone</s>",
        "<b>b</b>",
        "<i>i</i>",
        "<br>",
        '<th scope="col" colspan="2">Head</th>',
        "<dl><dt>Term</dt><dd>Meaning</dd></dl>",
    ]:
        assert kept in html


def test_smart_quotes_and_dashes_are_typeset():
    assert render_markdown('"Quoted" -- yes') == "<p>&ldquo;Quoted&rdquo; &ndash; yes</p>"


def test_empty_body_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


# --- Excerpts ---------------------------------------------------------------------------------


def test_first_paragraph_text_decodes_entities_and_drops_tags():
    html = "<p>Tom &amp; Jerry&#8217;s <strong>&lt;b&gt;</strong> plan</p><p>Second</p>"
    assert first_paragraph_text(html) == "Tom & Jerry’s <b> plan"


def test_first_paragraph_text_skips_empty_paragraphs():
    html = '<p></p><p>  \n </p><p><img src="/x.jpg" alt="x"></p><p>Real words.</p>'
    assert first_paragraph_text(html) == "Real words."


def test_first_paragraph_text_collapses_whitespace_and_handles_no_paragraphs():
    assert first_paragraph_text("<p>One\n   two\tthree</p>") == "One two three"
    assert first_paragraph_text("<h2>Only a heading</h2>") == ""


# --- Posts store and show only sanitised HTML -------------------------------------------------

HOSTILE_BODY = (
    "Paragraph one.\n\n"
    "<script>document.title='pwned'</script>\n\n"
    '<img src="/x.jpg" alt="x" onerror="stealCookies()">\n\n'
    "[click](javascript:stealCookies())\n\n"
    '<iframe src="https://evil.example/"></iframe>'
)


@pytest.mark.django_db
def test_post_save_stores_sanitised_html():
    post = PostFactory(body=HOSTILE_BODY)
    post.refresh_from_db()
    assert post.body_html == render_markdown(HOSTILE_BODY)
    assert "<script" not in post.body_html
    assert "stealCookies" not in post.body_html
    assert "evil.example" not in post.body_html
    assert post.body == HOSTILE_BODY  # the author's text is kept as written


@pytest.mark.django_db
def test_post_body_html_is_re_rendered_when_the_body_changes():
    post = PostFactory(body="Old text.")
    post.body = "New <script>x()</script> **text**."
    post.save()
    post.refresh_from_db()
    assert "<strong>text</strong>" in post.body_html
    assert "Old" not in post.body_html
    assert "<script" not in post.body_html


@pytest.mark.django_db
def test_hostile_body_never_reaches_the_public_post_page(client):
    post = PostFactory(body=HOSTILE_BODY)
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Paragraph one." in page
    assert "<script>document" not in page
    assert "pwned" not in page
    assert "stealCookies" not in page
    assert "onerror" not in page
    assert "javascript:" not in page
    assert "<iframe" not in page


@pytest.mark.django_db
def test_staff_preview_of_a_draft_is_sanitised_too(admin_client):
    post = PostFactory(draft=True, body=HOSTILE_BODY)
    response = admin_client.get(reverse("posts:preview", kwargs={"pk": post.pk}))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>document" not in page
    assert "stealCookies" not in page


@pytest.mark.django_db
def test_markdown_in_a_post_renders_on_the_public_page(client):
    post = PostFactory(body="# Parks\n\nWe saved **three** parks. [Details](https://barnet.gov.uk)")
    page = client.get(post.get_absolute_url()).content.decode()
    assert "<h2>Parks</h2>" in page
    assert "<strong>three</strong>" in page
    assert '<a href="https://barnet.gov.uk">Details</a>' in page


# --- Summaries shown in lists of posts --------------------------------------------------------


@pytest.mark.django_db
def test_explicit_excerpt_wins_over_the_first_paragraph():
    post = PostFactory(body="The body's first paragraph.", excerpt="  What the councillor chose.  ")
    assert post.summary == "What the councillor chose."
    assert post.description == "What the councillor chose."


@pytest.mark.django_db
def test_summary_is_the_first_paragraph_as_plain_text():
    post = PostFactory(
        body="# A heading\n\n![Photo](/media/x.jpg)\n\nRoads &amp; *pavements* get £2m.\n\nMore."
    )
    assert post.summary == "Roads & pavements get £2m."


@pytest.mark.django_db
def test_long_first_paragraph_is_cut_to_55_words_with_an_ellipsis():
    words = [f"word{n}" for n in range(1, 101)]
    post = PostFactory(body=" ".join(words))
    assert post.summary == " ".join(words[:EXCERPT_WORDS]) + "…"
    assert len(post.summary.split()) == EXCERPT_WORDS


@pytest.mark.django_db
def test_short_first_paragraph_has_no_ellipsis():
    words = " ".join(["word"] * EXCERPT_WORDS)
    post = PostFactory(body=words)
    assert post.summary == words


@pytest.mark.django_db
def test_trailing_punctuation_is_dropped_before_the_ellipsis():
    words = [f"w{n}" for n in range(1, EXCERPT_WORDS)] + ["last,", "beyond", "more"]
    post = PostFactory(body=" ".join(words))
    assert post.summary.endswith(" last…")


@pytest.mark.django_db
def test_summary_of_hostile_body_is_plain_text_escaped_on_the_home_page(client):
    post = PostFactory(body="<b>Bold</b> &lt;script&gt;alert(1)&lt;/script&gt; claim")
    assert post.summary == "Bold <script>alert(1)</script> claim"
    page = client.get(reverse("posts:home")).content.decode()
    assert "Bold &lt;script&gt;alert(1)&lt;/script&gt; claim" in page
    assert "<script>alert(1)" not in page


@pytest.mark.django_db
def test_unpublishing_a_post_keeps_its_summary():
    post = PostFactory(body="Kept summary.")
    post.unpublish()
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    assert post.summary == "Kept summary."


def test_captioned_figures_from_wordpress_are_kept():
    html = sanitiser.sanitise_html(
        '<figure class="wp-caption"><img src="/media/a.jpg" alt="A"><figcaption>A</figcaption>'
        "</figure>"
    )
    assert html == '<figure><img src="/media/a.jpg" alt="A"><figcaption>A</figcaption></figure>'


def test_html_bodies_are_sanitised_and_an_h1_becomes_h2():
    html = sanitiser.render_html(
        '<h1 onclick="x()">Title</h1><p>Text<script>alert(1)</script></p><H2>Sub</H2>'
        '<iframe src="https://evil.example/"></iframe>'
    )
    assert html == "<h2>Title</h2><p>Text</p><h2>Sub</h2>"


# Short notes (the pre-election banner, corrections) and plain admin text (the imprint)


def test_short_notes_keep_emphasis_and_links_only():
    from core.sanitiser import render_short_markdown

    html = render_short_markdown(
        "# Title\n\n- item\n\n![x](/a.png) **bold** [site](https://example.org) "
        "[bad](javascript:alert(1))\n\n<script>alert(2)</script><table><tr><td>t</td></tr></table>"
    )
    assert "<h" not in html and "<li" not in html and "<img" not in html and "<table" not in html
    assert "<strong>bold</strong>" in html and '<a href="https://example.org">site</a>' in html
    assert "javascript:" not in html and "alert(2)" not in html


def test_plain_text_is_one_line_without_controls_and_unescaped():
    from core.sanitiser import plain_text

    assert (
        plain_text("  Sam\u202e   Agent \n of <b>Barnet</b>\x00 ") == "Sam Agent of <b>Barnet</b>"
    )
