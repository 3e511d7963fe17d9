LONDON, England (CNN) -- Story one begins here.

It has two paragraphs.

@highlight

One
