Some intro line
UPDATED:

12:30 EST, 5 June 2012

Body.
@highlight
x
