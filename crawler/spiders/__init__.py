"""One spider per CMS family; each crawls one registry site (``-a site=ID``)."""
