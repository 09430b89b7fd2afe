"""What several apps share and ``breeding`` may import: the API's error shape and how it is
documented (``schema``), its request parsers (``parsers``) and query parameters
(``params``). No models and no app of the site: the lowest layer above ``inference``."""
