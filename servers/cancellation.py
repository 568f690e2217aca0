"""A client that hangs up cancels its request's work, streaming or not.

Starlette notices a disconnect only while it streams; a handler awaiting a whole answer would run
on, and with it every call it made downstream (the supervisor, the agents, the LLM's slots). Here,
once the body has been read, the connection is watched, and a disconnect cancels the handler: its
outgoing calls close their connections, and each server below cancels its own work the same way.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DISCONNECT: Message = {"type": "http.disconnect"}


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_read, left = anyio.Event(), anyio.Event()
        finished = False

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

        async with anyio.create_task_group() as group:
            async def watch() -> None:
                await body_read.wait()
                while (await receive())["type"] != "http.disconnect":
                    pass
                left.set()
                if not finished:  # a disconnect after the answer went out is just the end
                    group.cancel_scope.cancel()

            group.start_soon(watch)
            await self.app(scope, receive_body, send_marking_end)
            group.cancel_scope.cancel()
