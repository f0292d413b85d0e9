"""Leadbot's edges: the Slack app, the HTTP server, the worker and the CLI. Thin by design."""
