@highlight

only highlights
