"""Routing, pure: which route a lead takes, when a route is open, who may take the next turn.

Nothing here touches the database or Slack; `leadqual.services.assignment` loads the plain
data these functions need and writes what they decide.
"""
