By ALICE SMITH
PUBLISHED: 10:00 EST, 1 May 2013
The first paragraph.

Second paragraph.

@highlight

A highlight.
