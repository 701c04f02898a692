"""The demo's discussion: residents' comments on the posts' demo, and a moderator.

`load()` runs after `posts.demo.load()` (the `load_demo` command calls both; the benchmark and
the tests reuse them). Safe to run again: when the seed post already has comments, no comments
are added.
"""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from posts import demo as posts_demo
from posts.models import Post

from .models import Comment, HouseRule, ModerationEvent

LONDON = posts_demo.LONDON
SEED_SLUG = posts_demo.SEED_SLUG
DISCUSSION_SLUG = "parking-charges-consultation-opens"

# The seed post's two responses, word for word as they were published.
MRS_ANGRY = (
    "How on earth can you dare to publish this? DId you not read the MetPro Audit Report? Are "
    "you not aware of the government’s change in position on the issue of mass outsourcing? "
    "Residents do not trust you to give any more services to the private sector: to rush the "
    "£750 million package out the day after the MetPro meeting is madness, and you know it. "
    "These services need to remain in house, and run competently – and to benefit residents, "
    "not for the profit of some external provider. Clearly the Tory administration is "
    "incapable of runnning anything with competence and probity, so admittedly that may be a "
    "problem. Oh, and why are you and your Tory colleagues so silent on the issues raised by "
    "MetPro?"
)
COUNCILLOR_REPLY = (
    "On each and every occasion we ask residents how they want the council to make savings "
    "they ask us to reduce back office spending rather than reduce services. This is exactly "
    "what we are doing here. You are the first resident to insist to me that the council’s HR "
    "function has to remain in house or the world will crumble. The recent State of the "
    "Borough report makes clear, the council has to deal with real world pressures, pressures "
    "the council faces to deal with a rising demand for services in a time of austerity."
    "\n\n"
    "Either we look at different ways of providing services or we just provide less of the "
    "same. I don’t think that latter option is acceptable and I would point you to the library "
    "strategy as an example where we are looking at changing our model of service, buying more "
    "books, supporting more young people to read and supporting adult literacy rather than "
    "just hacking back as other boroughs have done."
    "\n\n"
    "The Metpro situation was not acceptable and frankly the report that went to audit "
    "committee made it clear that our contract management needs to be tightened up and plans "
    "are in place to do that. The One Barnet team however grew out of the major projects team "
    "that has delivered many education buildings over the last few years – all on time and "
    "all within budget."
)

# Invented residents: key → (name, website). Emails are <first>.<last>@example.org and
# addresses come from 192.0.2.0/24 (reserved for documentation).
RESIDENTS = {
    "margaret": ("Margaret Collins", ""),
    "david": ("David Okafor", ""),
    "priya": ("Priya Shah", "https://priyashah.example.org/"),
    "tom": ("Tom Hennessy", ""),
    "ruth": ("Ruth Abrahams", "https://churchend-residents.example.org/"),
    "gareth": ("Gareth Lloyd", ""),
    "anjali": ("Anjali Mehta", ""),
    "colin": ("Colin Baxter", "https://baxter-hardware.example.org/"),
    "sarah": ("Sarah Goldberg", ""),
    "michael": ("Michael O’Brien", ""),
    "helen": ("Helen Fraser", ""),
    "yusuf": ("Yusuf Demir", ""),
}
COUNCILLOR = "robertrams"
REMOVED = "removed"  # marks the comment a moderator took down (house rule 1)

# The discussion on the parking post: (who, text, replies), replies in the same shape.
# Threads go four levels deep (levels 0–3). Kept as written: the indentation is the thread.
# fmt: off
DISCUSSION = [
    ("margaret", "Visitor vouchers going from £1 to £4 a day is a tax on anyone whose elderly "
     "parents need a carer. My mother’s carer comes twice a day. Who on the council thought "
     "this through?", [
        ("david", "It’s worse than that: the carer pays, not the family, and the agencies "
         "already struggle to find people willing to work in Barnet.", [
            ("margaret", "Exactly. Ours has told us she may ask for a transfer to Enfield, "
             "where carers park for free.", [
                (COUNCILLOR, "Carers’ permits are a fair point and I have passed it to the "
                 "officers running the consultation. Please put it in your response too: that "
                 "is what the committee will read.", []),
            ]),
        ]),
        ("helen", "Agreed. There should be a carers’ permit, as Harrow and Brent have.", []),
    ]),
    ("colin", "Every time charges go up, footfall on Ballards Lane goes down. We have lost "
     "three shops on our parade since January. A free half hour would do more for the high "
     "street than any regeneration scheme.", [
        ("priya", "I’d like to see the evidence that charges drive shoppers away. Most people "
         "on Ballards Lane walk or come by bus.", [
            ("colin", "Come and stand in the shop on a Saturday and count the regulars who "
             "tell me they now drive to Brent Cross instead, where parking is free.", [
                ("priya", "Brent Cross has thousands of free spaces paid for by the shops. "
                 "That is a different question: should the shops on Ballards Lane pay for "
                 "parking too?", []),
            ]),
            ("anjali", "Both can be true. I walk, but my dad can’t, and he has stopped coming "
             "to the shops with me since the machines stopped taking coins.", []),
        ]),
        ("gareth", "The Finchley Society surveyed traders last year and found the same "
         "thing. The report is on their website.", []),
        (COUNCILLOR, "Colin, I would welcome the traders’ figures. The consultation includes "
         "a free 30-minute stay on the main shopping streets as an option, and evidence like "
         "yours will help decide it.", [
            ("colin", "I’ll send them over this week. Thank you for replying.", []),
        ]),
    ]),
    (REMOVED, "michael", "The councillor and his cronies are crooks and liars, and anyone "
     "who voted for them is an idiot. This is daylight robbery by a bunch of thieves.", [
        ("ruth", "Whatever was said above, the question underneath it is fair: where does the "
         "parking money go? The council has to publish a parking account every year.", [
            (COUNCILLOR, "It does, and any surplus can only be spent on transport: "
             "concessionary fares, road repairs and the like. I will ask for last year’s "
             "account to be linked from the consultation page.", [
                ("ruth", "Thank you. Please include the cost of enforcement: the contractor’s "
                 "fee is the figure people actually want to see.", []),
            ]),
        ]),
        ("sarah", "Can we keep this civil, please? Some of us would like to read the "
         "arguments.", []),
    ]),
    ("sarah", "Not everyone is against this. Our road fills with commuters’ cars from 7am "
     "because the zone stops at the end of our street. I would happily pay for a permit if it "
     "means I can park near my house.", [
        ("tom", "Then the charge should fall on the commuters, not on residents who already "
         "pay council tax.", [
            ("sarah", "The permit price in the consultation is still cheaper than Camden or "
             "Haringey. I’d rather pay that than spend twenty minutes circling.", []),
        ]),
        ("yusuf", "Same in our road near Finchley Central. The zone just pushes the problem "
         "into the next street.", [
            ("gareth", "That’s displacement, and it is why the zone boundaries matter more "
             "than the prices. The streets to be added are listed in appendix B.", [
                ("yusuf", "Thank you, I hadn’t found appendix B. Our street is in it.", []),
            ]),
        ]),
    ]),
    ("priya", "The consultation document is 40 pages long and the online form times out "
     "after 20 minutes. I lost my answers twice. Can the council extend the deadline, or "
     "offer a paper version?", [
        ("helen", "Same here. In the end I wrote my answers in a document first and pasted "
         "them in.", []),
        (COUNCILLOR, "Paper copies are at every library and at the town hall reception, and I "
         "have asked why the form times out.", [
            ("priya", "Thank you. Church End library had run out on Saturday, though.", [
                (COUNCILLOR, "I have asked for more to be sent there this week.", []),
            ]),
        ]),
    ]),
    ("tom", "How much does the council actually make from parking each year, after costs? "
     "If it is there to raise money, just say so.", [
        ("david", "The last figure I saw was a surplus of around £7 million, but I would like "
         "to see it from the council.", [
            ("ruth", "It is in the statement of accounts, in the note on the parking account. "
             "Last year’s is on the council website.", []),
        ]),
        ("anjali", "Even where there is a surplus, it pays for Freedom Passes. People forget "
         "that.", []),
    ]),
    ("anjali", "Paying by phone needs a smartphone and a bank card. What are older residents "
     "without either supposed to do?", [
        ("margaret", "My neighbour is 84 and has never used a mobile. She simply doesn’t drive "
         "to the shops any more.", [
            ("colin", "We used to sell scratch cards for the machines over the counter, but "
             "we are told those are being withdrawn.", []),
        ]),
        (COUNCILLOR, "Paying in cash at local shops through PayPoint is part of the proposal. "
         "I agree it has to be simple, and I will make sure that point is in the report.", [
            ("anjali", "PayPoint would help. Please make sure the signs on the street say "
             "so.", []),
        ]),
    ]),
    ("gareth", "Could the council publish the full consultation results, not just a summary? "
     "Last time the summary said “a majority support” when most responses came from outside "
     "the zones.", [
        ("helen", "Seconded. Publish the numbers by ward.", [
            ("gareth", "And how many responses came from people living in the streets "
             "affected.", []),
        ]),
        ("priya", "Good suggestion. Open data would make it much harder to argue about what "
         "people said.", []),
    ]),
    ("helen", "Will the charges apply on Sundays? Churches and synagogues in the ward rely "
     "on people being able to park for a couple of hours.", [
        ("michael", "The draft map shows Sunday restrictions only around the station.", []),
        (COUNCILLOR, "The proposal has no Sunday charges outside the station area, and places "
         "of worship have been written to directly.", [
            ("helen", "That is reassuring, thank you.", []),
        ]),
    ]),
    ("david", "Does the consultation say anything about charging points for electric cars? "
     "If the bays are being redesigned, now is the time.", [
        ("yusuf", "One paragraph on page 31. It says “to be considered in a future phase”.", [
            ("david", "Which means never.", [
                ("sarah", "Not necessarily: the money for charging points comes from TfL, not "
                 "the parking account. Worth asking for it in your response.", []),
            ]),
        ]),
    ]),
    ("ruth", "The Church End Residents’ Association holds a public meeting on the proposals "
     "on Tuesday 18 October at 7.30pm at Church End library. All welcome; our councillors "
     "have been invited.", [
        (COUNCILLOR, "I will be there.", []),
        ("margaret", "Will there be a hearing loop? My husband can’t follow meetings without "
         "one.", [
            ("ruth", "Yes, the meeting room has one. We will also have large-print copies of "
             "the maps.", []),
        ]),
    ]),
    ("yusuf", "Motorcycle bays: there are two in the whole of Church End. If you want fewer "
     "cars, make it easier to ride.", [
        ("tom", "Hear, hear. And more cycle stands at the station, which are always full.", []),
        (COUNCILLOR, "Four new motorcycle bays are proposed on Regents Park Road. I will ask "
         "whether more can go near the station.", []),
    ]),
    ("michael", "For what it’s worth, I think charging for kerb space is right in principle. "
     "The problem is trust: people don’t believe the money comes back to them.\n\n"
     "Publish where it goes, street by street, and most of this argument goes away.", [
        ("priya", "The best summary of this whole discussion.", []),
    ]),
    ("margaret", "Thank you for answering on here, Councillor. More than most of them do.", []),
]
# fmt: on

# Comments waiting in the Pending queue: (post slug, name, text, why it was held).
PENDING = [
    (
        DISCUSSION_SLUG,
        "Alan Pritchard",
        "Wardens were out on our road at 6.40 on Saturday morning. Photos here: "
        "https://photos.example.org/wardens-1 and https://photos.example.org/wardens-2",
        "Contains 2 links.",
    ),
    (
        "weekly-bin-collections-will-continue",
        "Joan Whitfield",
        "Good news about the weekly collections. Could the recycling lorry come before 8am, "
        "though? It blocks the school run on our road every Thursday.",
        "First comment from this email address.",
    ),
]


# (role, username) of the accounts this demo makes, with the posts demo's password.
ACCOUNTS = [("moderator", "moderator")]


def load():
    """The moderator, the seed post's two responses, the parking post's long discussion and
    two comments waiting for moderation; returns what was done, in a sentence."""
    moderator = moderator_account()
    seed = Post.objects.filter(slug=SEED_SLUG).first()
    if seed is None:
        return "No demo posts to comment on."
    if Comment.objects.for_post(seed).exists():
        return "Demo comments are already loaded."
    councillor = get_user_model().objects.get(username=COUNCILLOR)
    added = seed_responses(seed, councillor)
    discussion = Post.objects.filter(slug=DISCUSSION_SLUG).first()
    if discussion is not None:
        added += add_discussion(discussion, councillor, moderator)
    added += add_pending()
    return f"Added {added} demo comments."


def moderator_account():
    moderator, made = get_user_model().objects.get_or_create(
        username="moderator",
        defaults={
            "first_name": "Maya",
            "last_name": "Reid",
            "email": "moderator@example.org",
            "is_staff": True,
        },
    )
    if made:
        moderator.set_password(posts_demo.DEMO_PASSWORD)
        moderator.save()
    moderator.groups.add(Group.objects.get(name="Moderators"))
    return moderator


def seed_responses(seed, councillor):
    angry = add_comment(
        seed,
        user_name="Mrs Angry, Broken Barnet blog",
        user_email="mrs.angry@example.org",
        user_url="https://brokenbarnet.blogspot.com/",
        comment=MRS_ANGRY,
        submit_date=datetime.datetime(2011, 6, 30, 14, 12, tzinfo=LONDON),
        ip_address="192.0.2.200",
        followup=True,
    )
    add_comment(
        seed,
        user=councillor,
        comment=COUNCILLOR_REPLY,
        submit_date=datetime.datetime(2011, 6, 30, 19, 47, tzinfo=LONDON),
        parent=angry,
    )
    return 2


def add_discussion(post, councillor, moderator):
    """The parking post's threads: a new one every few hours over three days, replies
    within the hours that follow, in the order they are listed. Returns how many."""
    added = 0

    def add_thread(entry, when, parent):
        nonlocal added
        removed = entry[0] == REMOVED
        who, text, replies = entry[1:] if removed else entry
        comment = add_comment(
            post, comment=text, submit_date=when, parent=parent, **person(who, councillor)
        )
        added += 1
        if removed:
            rule = HouseRule.objects.get(number=1)
            comment.remove(rule, by=moderator, note="Personal abuse of other people.")
            # Back-date the decision to the morning after, as it would have happened.
            decided = when + datetime.timedelta(hours=15)
            Comment.objects.filter(pk=comment.pk).update(moderated_at=decided)
            ModerationEvent.objects.filter(comment=comment).update(at=decided)
        for number, reply in enumerate(replies, start=1):
            add_thread(reply, when + datetime.timedelta(minutes=41 * number), comment)

    for index, thread in enumerate(DISCUSSION):
        started = post.published_at + datetime.timedelta(hours=1 + 5 * index, minutes=7)
        add_thread(thread, started, parent=None)
    return added


def person(who, councillor):
    """The comment fields of one of the demo's people."""
    if who == COUNCILLOR:
        return {"user": councillor}
    name, url = RESIDENTS[who]
    first, last = name.lower().replace("’", "").split()
    number = list(RESIDENTS).index(who) + 10
    return {
        "user_name": name,
        "user_email": f"{first}.{last}@example.org",
        "user_url": url,
        "ip_address": f"192.0.2.{number}",
        "followup": number % 3 == 0,
    }


def add_pending():
    added = 0
    for number, (slug, name, text, reason) in enumerate(PENDING, start=1):
        post = Post.objects.filter(slug=slug).first()
        if post is None:
            continue
        first, last = name.lower().split()
        comment = add_comment(
            post,
            user_name=name,
            user_email=f"{first}.{last}@example.org",
            comment=text,
            submit_date=timezone.now() - datetime.timedelta(hours=3 - number),
            ip_address=f"192.0.2.{100 + number}",
            is_public=False,
        )
        ModerationEvent.objects.create(comment=comment, action=ModerationEvent.Action.POSTED)
        comment.hold(reason)
        added += 1
    return added


def add_comment(post, parent=None, **fields):
    """Save a confirmed, public (unless `fields` say otherwise) comment through the model,
    so django-comments-xtd threads it."""
    fields = {"ip_address": "192.0.2.1", "is_public": True, "confirmed": True, **fields}
    comment = Comment.objects.build_for(post, parent=parent, **fields)
    comment.save()
    return comment
