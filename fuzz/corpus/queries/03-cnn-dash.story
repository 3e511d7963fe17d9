WASHINGTON (CNN)  -- The senator said on Monday that the bill (CNN) -- would pass.




It was 5 newlines before here.
@highlight
Senator says bill passes
