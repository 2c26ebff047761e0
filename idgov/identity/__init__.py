"""Identity registry: people, their never-reassigned identifiers, verification, certification."""
