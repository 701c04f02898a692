"""Dates as the interface writes them, in British English, without `|date`'s machinery.

`|date` looks up the language, the format and the time zone on every call (30–60 µs each);
the parts of a page written in Python (the comment thread, the sidebar) use these instead.
"""

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
