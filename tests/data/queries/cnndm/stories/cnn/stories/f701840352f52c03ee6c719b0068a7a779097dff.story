(CNN)Story three.
@highlight
Three
