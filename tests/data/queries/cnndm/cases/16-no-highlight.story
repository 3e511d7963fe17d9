  Just an article.



With no highlights.  

