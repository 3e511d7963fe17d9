Intro
UPDATED:12:30 GMT 2013
Body.
@highlight
x
