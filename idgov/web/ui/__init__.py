"""Server-rendered pages for people: Jinja templates, CSRF-protected forms, no scripts needed."""
