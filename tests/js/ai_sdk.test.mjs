// The Vercel AI SDK's default `openai` provider calls POST /v1/responses. Run against a live gateway
// (CHORUS_BASE_URL) by tests/conformance/test_ai_sdk.py; each test asserts what the SDK parsed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, streamText, generateObject, tool, stepCountIs } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { z } from 'zod';

const base = process.env.CHORUS_BASE_URL;
const sentBodies = []; // what the SDK sent, to show which of its forms reached the gateway
const openai = createOpenAI({
  baseURL: base + '/v1',
  apiKey: 'not-needed',
  fetch: (url, init) => { sentBodies.push(String(init?.body ?? '')); return fetch(url, init); },
});
const model = openai('chorus');

test('generateText answers through the Responses API, with figures computed by the team', async () => {
  const result = await generateText({ model, prompt: 'What is 15% of 240?' });
  assert.match(result.text, /\b36\b/);
  assert.ok(result.usage.outputTokens > 0);
  assert.equal(result.response.body?.object ?? 'response', 'response');
  assert.match(result.response.id, /^resp_/);
});

test('streamText streams the text in more than one delta', async () => {
  const result = streamText({ model, prompt: 'What is 6 times 7?' });
  const deltas = [];
  for await (const delta of result.textStream) deltas.push(delta);
  assert.ok(deltas.length > 1, `deltas: ${JSON.stringify(deltas)}`);
  assert.match(deltas.join(''), /\b42\b/);
  assert.equal(await result.finishReason, 'stop');
});

test('generateObject returns an object valid against the schema', async () => {
  const { object } = await generateObject({
    model,
    schema: z.object({ city: z.string(), country: z.string() }),
    prompt: 'Paris is the capital of France. Give the city and its country.',
  });
  assert.equal(typeof object.city, 'string');
  assert.equal(typeof object.country, 'string');
});

test('a tool call runs, and its result goes back for the final answer', async () => {
  const calls = [];
  const result = await generateText({
    model,
    prompt: 'What is the weather in Paris?',
    tools: {
      weather: tool({
        description: 'The weather in a city',
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => { calls.push(city); return { city, forecast: 'sunny', celsius: 21 }; },
      }),
    },
    toolChoice: 'required',
    prepareStep: ({ stepNumber }) => (stepNumber > 0 ? { toolChoice: 'none' } : {}),
    stopWhen: stepCountIs(2),
  });
  assert.equal(calls.length, 1);
  assert.equal(typeof calls[0], 'string');
  assert.equal(result.steps.length, 2);
  assert.equal(result.steps[0].finishReason, 'tool-calls');
  assert.equal(result.steps[1].finishReason, 'stop');
  assert.ok(result.text.length > 0);
  // the tool's result reached the team: the stored conversation holds it, once
  const response = await (await fetch(`${base}/v1/responses/${result.steps[1].response.id}`)).json();
  const stored = await (await fetch(`${base}/v1/conversations/${response.conversation.id}`)).json();
  const results = stored.messages.filter((m) => m.role === 'tool');
  assert.equal(results.length, 1);
  assert.match(results[0].content, /sunny/);
});

test('earlier answers sent back by reference continue the conversation', async () => {
  const first = await generateText({ model, prompt: 'What is 15% of 240?' });
  const second = await generateText({
    model,
    messages: [{ role: 'user', content: 'What is 15% of 240?' }, ...first.response.messages,
      { role: 'user', content: 'and 20%?' }],
  });
  assert.match(sentBodies.at(-1), /item_reference/); // the SDK's default: earlier output by its id
  assert.match(second.text, /\b48\b/); // 20% of 240, from the resolved history
});
