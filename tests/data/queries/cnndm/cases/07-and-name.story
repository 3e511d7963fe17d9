By
Daily Mail Reporter
and Émile
The rest of the story.
@highlight
h
