By
Daily Mail Reporter
PUBLISHED:
09:15 EST, 4 June 2013
|
UPDATED:
09:45 EST, 4 June 2013

Story two.

@highlight

Two
