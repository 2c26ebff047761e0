"""Identity sources: one module per provider (local; LDAP and OIDC follow)."""
