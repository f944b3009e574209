"""Web pages (HTTPS): come with issue 5."""
