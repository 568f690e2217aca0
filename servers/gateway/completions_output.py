"""Chat completions and legacy text completions as the client receives them: a whole body, or chunks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

from orchestration.protocol import Choice, TaskResult, pieces
from servers.gateway import progress, wire
from servers.gateway.errors import APIError

if TYPE_CHECKING:
    from servers.gateway.exchange import Exchange


class CompletionsOutput:
    def __init__(self, exchange: Exchange, chat: bool):
        self.exchange = exchange
        self.body = exchange.body
        self.lanes = exchange.lanes
        self.chat = chat
        self.id = wire.completion_id("chatcmpl" if chat else "cmpl")
        self.keeps_turn = self.reads_history = chat  # legacy completions are one-off prompts
        self.wants_usage = bool(self.body.stream_options and self.body.stream_options.include_usage)

    @classmethod
    def for_chat(cls, exchange: Exchange) -> CompletionsOutput:
        return cls(exchange, chat=True)

    @classmethod
    def for_text(cls, exchange: Exchange) -> CompletionsOutput:
        return cls(exchange, chat=False)

    @property
    def kind(self) -> str:
        return "chat.completion" if self.chat else "text_completion"

    @property
    def chunk_kind(self) -> str:
        return "chat.completion.chunk" if self.chat else "text_completion"

    def _text(self, index: int, output: str) -> str:
        """Legacy completions with echo start with their prompt."""
        if isinstance(self.body, wire.CompletionRequest) and self.body.echo:
            return self.body.prompt_for_choice(index, self.body.n or 1) + output
        return output

    # --- a whole response ----------------------------------------------------------------------
    async def whole(self, result: TaskResult, answers: list[Choice], usage: dict[str, int]) -> JSONResponse:
        exchange, lanes = self.exchange, self.lanes
        metadata = wire.metadata_block(result, exchange.conversation_id, exchange.seconds)
        shaped = []
        for answer in answers:
            text = self._text(answer.index, answer.output)
            logprobs = lanes.logprobs_block(answer.logprobs)
            reason = lanes.finish_reason(answer)
            message = lanes.message(answer, text)
            if self.chat and exchange.progress and (lines := progress.lines_of(result)):
                message["reasoning_content"] = "\n".join(lines)
            shaped.append(
                {"index": answer.index, "message": message, "logprobs": logprobs, "finish_reason": reason}
                if self.chat
                else {"index": answer.index, "text": text, "logprobs": logprobs, "finish_reason": reason}
            )
        body = {
            "id": self.id,
            "object": self.kind,
            "created": exchange.created,
            "model": self.body.model,
            "choices": shaped,
            "usage": usage,
            "conversation_id": exchange.conversation_id,
            "metadata": metadata,
            "agent_trace": wire.agent_trace_block(result),
            **wire.findings_blocks(result),
        }
        return JSONResponse(
            body, headers={"x-conversation-id": exchange.conversation_id, "x-agents-used": metadata["agents_used"]}
        )

    # --- a stream ------------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        return {}

    def _chunk(
        self,
        delta: dict[str, Any] | None,
        finish_reason: str | None = None,
        index: int = 0,
        logprobs: dict[str, Any] | None = None,
        **extra: Any,
    ) -> bytes:
        if self.chat:
            choice = {"index": index, "delta": delta or {}, "logprobs": logprobs, "finish_reason": finish_reason}
        else:
            choice = {
                "index": index,
                "text": (delta or {}).get("content", ""),
                "logprobs": logprobs,
                "finish_reason": finish_reason,
            }
        chunk = {
            "id": self.id,
            "object": self.chunk_kind,
            "created": self.exchange.created,
            "model": self.body.model,
            "choices": [choice],
            **extra,
        }
        if self.wants_usage and "usage" not in chunk:
            chunk["usage"] = None
        return wire.sse(chunk)

    def opening(self) -> list[bytes]:
        conversation_id = self.exchange.conversation_id
        first = {"role": "assistant", "content": ""} if self.chat else {"content": ""}
        chunks = [self._chunk(first, conversation_id=conversation_id, metadata={"conversation_id": conversation_id})]
        if isinstance(self.body, wire.CompletionRequest) and self.body.echo:
            per_prompt = self.body.n or 1
            chunks += [
                self._chunk({"content": self.body.prompt_for_choice(index, per_prompt)}, index=index)
                for index in range(per_prompt * len(self.body.prompts))
            ]
        return chunks

    def text(self, index: int, text: str, logprobs: list[dict[str, Any]]) -> list[bytes]:
        return [self._chunk({"content": text}, index=index, logprobs=self.lanes.logprobs_block(logprobs))]

    def progress(self, line: str) -> list[bytes]:
        """A line of the team's progress, as reasoning; to Open WebUI also as a status event."""
        if not self.chat:
            return []
        return [self._chunk({"reasoning_content": line + "\n"}, **self._status(line, done=False))]

    def _status(self, description: str, done: bool) -> dict[str, Any]:
        if not self.exchange.open_webui:
            return {}
        return {"event": {"type": "status", "data": {"description": description, "done": done}}}

    def settled(self, answer: Choice, tail: str) -> list[bytes]:
        chunks = [self._chunk({"content": tail}, index=answer.index)] if tail else []
        if self.lanes.request.wants_json and not answer.tool_calls:  # JSON goes out once checked whole
            chunks += [self._chunk({"content": piece}, index=answer.index) for piece in pieces(answer.output)]
        chunks += [
            self._chunk(delta, index=answer.index)
            for delta in wire.tool_call_deltas(answer.tool_calls, self.lanes.request.legacy_functions)
        ]
        return chunks

    async def closing(self, result: TaskResult, answers: list[Choice], usage: dict[str, int] | None) -> list[bytes]:
        exchange, lanes = self.exchange, self.lanes
        chunks = [self._chunk({}, lanes.finish_reason(answer), index=answer.index) for answer in answers[:-1]]
        metadata = wire.metadata_block(result, exchange.conversation_id, exchange.seconds)
        done = (
            self._status(f"Answered by {metadata['agents_used'].replace(',', ', ')}.", done=True)
            if exchange.progress
            else {}
        )
        chunks.append(
            self._chunk(
                {},
                lanes.finish_reason(answers[-1]),
                index=answers[-1].index,
                conversation_id=exchange.conversation_id,
                metadata=metadata,
                agent_trace=wire.agent_trace_block(result),
                **{**wire.findings_blocks(result), **done},
            )
        )
        if usage is not None:
            chunks.append(
                wire.sse(
                    {
                        "id": self.id,
                        "object": self.chunk_kind,
                        "created": exchange.created,
                        "model": self.body.model,
                        "choices": [],
                        "usage": usage,
                    }
                )
            )
        return chunks + [wire.DONE]

    def failure(self, error: APIError) -> list[bytes]:
        return [wire.sse(error.body()), wire.DONE]
