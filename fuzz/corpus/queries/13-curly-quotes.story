‘Hello,’ she said. It’s “fine”.
@highlight
x
