and two words
Stays.
@highlight
h
