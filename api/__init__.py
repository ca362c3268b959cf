"""seed-qa's HTTP front end: JSON API, OpenAI-compatible chat, SSE and the web chat page."""

from api.app import create_app

__all__ = ["create_app"]
