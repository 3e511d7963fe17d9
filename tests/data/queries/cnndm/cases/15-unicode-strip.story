 　᠎Text body. 
@highlight
x
