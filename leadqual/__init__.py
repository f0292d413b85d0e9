"""Leadbot's domain: leads, rules and scoring, qualification, feedback, persistence, services."""
