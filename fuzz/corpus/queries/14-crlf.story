First line.



Second.Third.
@highlight
x
