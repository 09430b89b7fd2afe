"""What several apps share and ``breeding`` may import: the API's error shape and how it is
documented (``schema``, ``errors``), its request parsers (``parsers``) and query parameters
(``params``), and the rules of user names (``names``). No models and no app of the site: the
lowest layer above ``inference``."""
