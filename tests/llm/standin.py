"""A stand-in OpenAI-compatible server on loopback: scripted replies, every request recorded.

It speaks the real wire format (``POST /v1/chat/completions``, JSON or server-sent events) so the
real ``openai`` client, its timeouts and its errors are exercised; only the model is scripted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted reply: ``content`` (streamed in ``pieces`` when asked), or an HTTP error."""

    content: str = ""
    status: int = 200
    delay_s: float = 0.0  # before the response starts
    pieces: list[str] | None = None  # stream deltas; default: word by word
    break_after: int | None = None  # streaming: drop the connection after this many deltas


@dataclass
class StandIn:
    """The running server: its base URL, the script to answer from and the requests it received."""

    base_url: str
    script: Callable[[dict[str, Any]], Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reply_with(self, *replies: Reply | str) -> None:
        """Answer the next requests with ``replies`` in turn; the last one repeats."""
        queue = [r if isinstance(r, Reply) else Reply(r) for r in replies]

        def script(_: dict[str, Any]) -> Reply:
            return queue.pop(0) if len(queue) > 1 else queue[0]

        self.script = script

    def prompts(self) -> list[str]:
        """The user message of each request received, in order."""
        return [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in self.requests]


def start() -> tuple[StandIn, ThreadingHTTPServer]:
    """Start a stand-in on a free loopback port (in a daemon thread)."""
    standin = StandIn(base_url="", script=lambda _: Reply("NOT IN DOCUMENTS"))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # keep pytest output clean
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            standin.requests.append(body)
            reply = standin.script(body)
            time.sleep(reply.delay_s)
            if reply.status != 200:
                self._send_json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
            elif body.get("stream"):
                self._send_stream(body, reply)
            else:
                message = {"role": "assistant", "content": reply.content}
                self._send_json(200, _completion(body, {"index": 0, "message": message, "finish_reason": "stop"}))

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, body: dict[str, Any], reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pieces = reply.pieces if reply.pieces is not None else _words(reply.content)
            for i, piece in enumerate(pieces):
                if reply.break_after is not None and i >= reply.break_after:
                    # Half an HTTP chunk, then the connection drops: what a crashed server looks like.
                    self.wfile.write(b"40\r\ndata: {")
                    self.wfile.flush()
                    self.close_connection = True
                    return
                choice = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                self._send_chunk(f"data: {json.dumps(_completion(body, choice, chunk=True))}\n\n")
            done = {"index": 0, "delta": {}, "finish_reason": "stop"}
            self._send_chunk(f"data: {json.dumps(_completion(body, done, chunk=True))}\n\ndata: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _send_chunk(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that timed out and hung up is part of the script, not an error

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    standin.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return standin, server


def _completion(request: dict[str, Any], choice: dict[str, Any], *, chunk: bool = False) -> dict[str, Any]:
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk" if chunk else "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "standin"),
        "choices": [choice],
    }


def _words(text: str) -> list[str]:
    """Deltas as a model sends them: a few characters at a time, splitting markers too."""
    return [text[i : i + 3] for i in range(0, len(text), 3)]
