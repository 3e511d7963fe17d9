By
Daily Mail Reporter
PUBLISHED:
12:00 EST, 1 May 2013
|
UPDATED:
13:07 EST, 2 May 2013
The article text.
@highlight
x
