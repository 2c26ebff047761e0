"""The ldap3 adapter: the only code that speaks LDAP (DESIGN: only providers/ldap imports ldap3)."""

from idgov.providers.ldap.provider import LdapIdentityProvider

__all__ = ["LdapIdentityProvider"]
