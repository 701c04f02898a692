"""Demo content: the councillor, the seed post and a year or two of varied posts.

`load()` is called by the `load_demo` command (in the `demo` app), the benchmark and the tests.
Safe to run again: what exists already is left alone (matched by username, slug and date).
"""

import datetime
import io
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sites.models import Site
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image as PILImage
from PIL import ImageDraw

from posts import images
from posts.models import Attachment, Author, Category, Correction, Image, Post, Tag

LONDON = zoneinfo.ZoneInfo("Europe/London")
DEMO_DIR = Path(__file__).resolve().parent
DEMO_PASSWORD = "barnet-demo-2011"

SEED_SLUG = "back-office-and-customer-service-project-given-the-green-light"
SEED_TITLE = "Back office and customer service project given the green\u00a0light"

# (title, year, month, day, categories, tags, body, options)
POSTS = [
    (
        "Standing for Finchley Church End",
        2010,
        4,
        20,
        ["Ward news"],
        ["elections"],
        "I am standing again for Finchley Church End in the council elections on 6 May. "
        "Over the next two weeks I will be knocking on doors across the ward; if I miss "
        "you, please get in touch.\n\n"
        "*Promoted by the agent for Robert Rams, Finchley.*",
        {},
    ),
    (
        "Library strategy: more books, not fewer branches",
        2011,
        5,
        12,
        ["Libraries", "Council services"],
        ["library strategy", "budget"],
        "The library strategy agreed this week sets out how we will change our model of "
        "service rather than simply cutting back as other boroughs have done.\n\n"
        "## What changes\n\n"
        "- More money for **new books**, especially for children and young people.\n"
        "- A reading programme for adults who want to improve their literacy.\n"
        "- Longer opening hours at the busiest branches, staffed with volunteers' help.\n\n"
        "You can read the strategy in full in the document below.",
        {"attachment": "Library strategy 2011–2015", "image": ("Shelves of books", "#7a4e2d")},
    ),
    (
        "Ward surgery dates for the summer",
        2011,
        6,
        3,
        ["Ward news"],
        ["surgeries"],
        "I hold a surgery every month where any resident can come and raise a problem "
        "in person. No appointment is needed.\n\n"
        "| Date | Time | Place |\n|---|---|---|\n"
        "| Saturday 2 July | 10:00–12:00 | Church End Library |\n"
        "| Saturday 6 August | 10:00–12:00 | Finchley Youth Theatre |\n"
        "| Saturday 3 September | 10:00–12:00 | Church End Library |\n\n"
        "If you cannot come, email me and I will call you back.",
        {},
    ),
    (
        "MetPro audit report: what happens next",
        2011,
        7,
        14,
        ["Council services"],
        ["MetPro", "audit"],
        "The audit committee's report on the MetPro security contract was not acceptable "
        "reading. It made clear that our **contract management** needs to be tightened up.\n\n"
        "Plans are now in place to do that:\n\n"
        "1. Every contract over £50,000 will have a named manager.\n"
        "2. Spending against contracts will be reported to members every quarter.\n"
        "3. Internal audit will review a sample of contracts each year.\n\n"
        "> Residents are entitled to expect that every pound is accounted for.",
        {},
    ),
    (
        "Resurfacing on Regents Park Road",
        2011,
        8,
        22,
        ["Roads and transport"],
        ["roads", "consultation"],
        "Resurfacing of Regents Park Road between the North Circular and Ballards Lane "
        "starts on 5 September and will take about three weeks. Work will happen at night "
        "to keep disruption down; bus routes will not be diverted.",
        {"image": ("A freshly resurfaced road at dusk", "#3d4a57")},
    ),
    (
        "Parking charges consultation opens",
        2011,
        10,
        4,
        ["Roads and transport"],
        ["parking", "consultation"],
        "The council is consulting on changes to controlled parking zone charges. "
        "I know many of you feel strongly about this, so please do take part: the "
        "consultation is open until 15 November.\n\n"
        "Comments here are welcome, but only responses to the consultation itself count "
        "formally.",
        {},
    ),
    (
        "Budget 2012/13: protecting front-line services",
        2012,
        1,
        19,
        ["Council services", "Budget"],
        ["budget", "council tax"],
        "Next year's draft budget freezes council tax for the third year running while "
        "protecting the services residents tell us matter most: bin collections, street "
        "cleaning, libraries and care for older people.\n\n"
        "Savings come from the back office, from sharing services with neighbouring "
        "boroughs and from better contract management.",
        {"image": ("A chart of the council's spending by service", "#2f6f4f")},
    ),
    (
        "Weekly bin collections will continue",
        2012,
        3,
        8,
        ["Council services"],
        ["bins", "recycling"],
        "Some councils are moving to fortnightly collections. Barnet will keep weekly "
        "collections of household waste, and the recycling service will take mixed "
        "plastics from April.",
        {},
    ),
    (
        "School places in the west of the borough",
        2012,
        5,
        30,
        ["Schools"],
        ["schools", "planning"],
        "Demand for primary school places continues to rise. Two schools in the ward will "
        "each take an extra form of entry from September, and the new building at one of "
        "them was delivered on time and within budget.",
        {},
    ),
    (
        "Thank you to our volunteers",
        2012,
        7,
        2,
        ["Ward news"],
        ["volunteers", "library strategy"],
        "The summer reading challenge is back, run largely by volunteers. Thank you to "
        "everyone who gives their time; if you would like to join them, ask at any library.",
        {},
    ),
    (
        "Planning application for the old depot site",
        2012,
        9,
        17,
        ["Planning"],
        ["planning", "consultation"],
        "A planning application has been submitted for housing on the old depot site. "
        "The planning committee will consider it in public; anyone can comment on the "
        "application until 12 October.",
        {"image": ("The boarded-up entrance of the old depot", "#6b5b3e")},
    ),
    (
        "Winter gritting routes published",
        2012,
        11,
        26,
        ["Roads and transport"],
        ["roads", "winter"],
        "The council's gritting routes for this winter are published. Main roads, bus "
        "routes and roads near schools come first. Grit bins on residential streets will "
        "be refilled before the first frost.",
        {"sticky": True},
    ),
]


# (role, username) of the accounts this demo makes, all with DEMO_PASSWORD.
ACCOUNTS = [("author", "robertrams"), ("administrator", "admin")]


def set_domain(domain):
    """Record `domain` (host[:port]) as the site's address, used in feeds and email links."""
    site = Site.objects.get(pk=settings.SITE_ID)
    site.domain = domain
    site.save()  # through save(), so cached pages with the old address are dropped
    Site.objects.clear_cache()


def load():
    """The councillor, an administrator, the seed post and the other demo posts; returns
    what was done, in a sentence."""
    user_model = get_user_model()
    councillor, made = user_model.objects.get_or_create(
        username="robertrams",
        defaults={
            "first_name": "Robert",
            "last_name": "Rams",
            "email": "robert.rams@example.org",
            "is_staff": True,
        },
    )
    if made:
        councillor.set_password(DEMO_PASSWORD)
        councillor.save()
    councillor.groups.add(Group.objects.get(name="Authors"))
    author, _ = Author.objects.get_or_create(
        user=councillor,
        defaults={
            "display_name": "Robert Rams",
            "slug": "robert-rams",
            "bio": "Councillor for Finchley Church End ward and Cabinet Member for Resources.",
        },
    )
    if not user_model.objects.filter(username="admin").exists():
        user_model.objects.create_superuser("admin", "admin@example.org", DEMO_PASSWORD)

    if Post.objects.filter(slug=SEED_SLUG).exists():
        return "Demo content is already loaded."

    seed = Post.objects.create(
        title=SEED_TITLE,
        author=author,
        body=(DEMO_DIR / "seed-post.md").read_text(encoding="utf-8"),
        status=Post.Status.PUBLISHED,
        published_at=datetime.datetime(2011, 6, 30, 9, 0, tzinfo=LONDON),
    )
    seed.categories.set([category("Council services")])
    seed.tags.set([tag("One Barnet"), tag("outsourcing"), tag("back office")])
    # A correction, as /corrections/ and the top of the post show one.
    Correction.objects.create(
        post=seed,
        text="An earlier version of this post said that full Council approved the business "
        "case. It was approved by the **Cabinet Resources Committee**.",
        made_at=datetime.datetime(2011, 7, 4, 10, 0, tzinfo=LONDON),
        made_by=councillor,
    )

    for index, (title, year, month, day, categories, tags, body, extra) in enumerate(POSTS):
        post = Post(
            title=title,
            author=author,
            body=body,
            status=Post.Status.PUBLISHED,
            published_at=datetime.datetime(year, month, day, 8 + index % 10, 30, tzinfo=LONDON),
            sticky=extra.get("sticky", False),
        )
        if "image" in extra:
            alt, colour = extra["image"]
            post.image = picture(alt, colour)
            post.image_alt = alt
        post.save()
        post.categories.set([category(name) for name in categories])
        post.tags.set([tag(name) for name in tags])
        if "attachment" in extra:
            attach(post, extra["attachment"])

    scheduled = Post.objects.create(
        title="Consultation on the future of the town centre",
        author=author,
        body="This post is scheduled: it becomes public next week, on its publication date.",
        status=Post.Status.PUBLISHED,
        published_at=timezone.now() + datetime.timedelta(days=7),
    )
    scheduled.categories.set([category("Planning")])
    draft = Post.objects.create(
        title="Notes for the next newsletter (draft)",
        author=author,
        body="A draft the public never sees until it is published.",
    )
    draft.tags.set([tag("newsletter")])
    return f"Loaded the demo: {Post.objects.count()} posts by {author}."


def category(name):
    return Category.objects.get_or_create(name=name, defaults={"slug": slugify(name)})[0]


def tag(name):
    return Tag.objects.get_or_create(name=name, defaults={"slug": slugify(name)})[0]


def picture(alt, colour):
    """A simple generated landscape picture, stored through the real upload path."""
    canvas = PILImage.new("RGB", (1800, 1200), colour)
    draw = ImageDraw.Draw(canvas)
    for band in range(12):
        shade = 40 + band * 12
        draw.rectangle([0, 700 + band * 42, 1800, 742 + band * 42], fill=(shade, shade, shade + 10))
    draw.ellipse([1300, 150, 1550, 400], fill="#f2d16b")
    for x in range(100, 1700, 260):
        draw.rectangle([x, 420, x + 180, 700], fill="#e8e2d4")
        draw.polygon([(x - 20, 420), (x + 90, 330), (x + 200, 420)], fill="#8c3b2e")
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    upload = SimpleUploadedFile("demo.jpg", buffer.getvalue(), content_type="image/jpeg")
    image = Image(title=alt, alt_text=alt)
    images.store(image, images.process_upload(upload))
    image.save()
    return image


def attach(post, title):
    attachment = Attachment(post=post, title=title)
    attachment.file.save("library-strategy.pdf", ContentFile(_tiny_pdf(title)), save=False)
    attachment.save()


def _tiny_pdf(title):
    """A valid one-page PDF naming the document, so the demo attachment opens."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()
