"""Pure Block Kit builders: domain objects in, slack_sdk block models out. No I/O, no database."""
