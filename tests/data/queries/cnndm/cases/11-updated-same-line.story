PUBLISHED: 09:00 GMT, 1 May 2014 | UPDATED: 11:45 GMT, 1 May 2014
Article.
@highlight
x
