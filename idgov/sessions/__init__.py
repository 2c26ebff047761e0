"""Sessions for people: idle timeout, absolute lifetime, caps, revocation (ACC-3)."""
