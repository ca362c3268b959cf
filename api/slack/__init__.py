"""Slack front end: @mentions, DMs and ``/ask`` answered in threads, with numbered cited sources.

One Bolt ``App`` serves both transports:

- HTTP: ``app.mount_slack`` adds ``POST /slack/events`` (Events API and slash commands) to the FastAPI
  app. Bolt checks the signature and timestamp (401 otherwise), acknowledges at once, and answers in
  its worker threads, so Slack's 3-second deadline never waits on the model.
- Socket Mode: ``app.run_socket_mode`` (``qa slack``) for workspaces that cannot reach a public URL.

Modules: ``app`` (the Bolt app, its Web API client, both transports), ``bot`` (the listeners, thread
sessions, redelivery checks), ``formatting`` (Block Kit messages and question clean-up; no Slack import).
"""
