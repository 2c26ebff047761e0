"""Directory federation (LDAP, Active Directory): pure rules here; ldap3 in providers/ldap."""
