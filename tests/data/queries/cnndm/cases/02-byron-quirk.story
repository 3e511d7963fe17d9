Byron Bay is lovely.
Second line.
Third line stays.

@highlight

x
