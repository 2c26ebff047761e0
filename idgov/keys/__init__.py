"""Service signing keys: encrypted at rest, rotated, published as JWKS (RFC 7517)."""
