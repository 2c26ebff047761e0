"""The `idgov` subcommand groups: parse options, call services from click's context, print."""
