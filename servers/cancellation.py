"""A client that hangs up cancels its request's work, streaming or not.

Starlette notices a disconnect only while it streams; a handler awaiting a whole answer would run
on, and with it every call it made downstream (the supervisor, the agents, the LLM's slots). Here,
once the body has been read, the connection is watched, and a disconnect cancels the handler: its
outgoing calls close their connections, and each server below cancels its own work the same way.

The cancellation is asyncio's own, delivered once, so the handler's cleanup (closing those calls)
runs to its end; and nothing is wrapped, so errors reach the error handlers as they were raised.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DISCONNECT: Message = {"type": "http.disconnect"}


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Disconnects are handled here, so Starlette need not watch for them in a task group of its
        # own for every streamed response: ASGI 2.4 is what tells it so.
        scope["asgi"] = {**scope.get("asgi", {}), "spec_version": "2.4"}
        body_read, left = asyncio.Event(), asyncio.Event()
        finished = cancelled = False
        handler = asyncio.current_task()
        assert handler is not None

        async def receive_body() -> Message:
            if body_read.is_set():  # after the body, the app only waits for the client to leave
                await left.wait()
                return DISCONNECT
            message = await receive()
            if message["type"] == "http.disconnect":
                left.set()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_read.set()
            return message

        async def send_marking_end(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True  # before sending: the server may report the end as a disconnect at once
            await send(message)

        async def watch() -> None:
            nonlocal cancelled
            await body_read.wait()
            while (await receive())["type"] != "http.disconnect":
                pass
            left.set()
            if not finished:  # a disconnect after the answer went out is just the end
                cancelled = True
                handler.cancel()

        watcher = asyncio.create_task(watch())
        try:
            await self.app(scope, receive_body, send_marking_end)
        except asyncio.CancelledError:
            if not cancelled:
                raise
            handler.uncancel()  # the cancellation was ours, for this request: it ends here
        finally:
            watcher.cancel()
