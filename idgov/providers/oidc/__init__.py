"""OpenID Connect federation: the only package that imports authlib (DESIGN.md)."""
