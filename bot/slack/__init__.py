"""The Slack app: Bolt listeners, the Web API client, the HTTP endpoint and outbox rendering.

`create_app` (app.py) builds the Bolt app; `render_outbox` (messages.py) is what the
outbox worker sends; `make_client` (client.py) is the one way to get a Web API client.
"""
