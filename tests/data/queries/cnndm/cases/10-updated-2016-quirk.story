UPDATED: 10:22 GMT, 3 March 2016
Text of 2016.
@highlight
x
