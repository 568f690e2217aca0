// The playground (GET / on the gateway) driven in Debian's headless Chromium through playwright-core.
// Run by tests/system/test_playground.py against a gateway with API keys (CHORUS_GATEWAY_URL,
// CHORUS_API_KEY); it saves a screenshot to CHORUS_SCREENSHOT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const gateway = process.env.CHORUS_GATEWAY_URL;
const key = process.env.CHORUS_API_KEY;
const WAIT = { timeout: 600_000 }; // a liveness guard for a shared 2-core machine, not a speed bound
const QUESTION = 'Research how conversations are stored, and compute the growth from 120 to 150.';

// This machine has no outside network: without these flags Chromium keeps trying to reach it.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

let browser, page, profile;
const consoleErrors = [];

before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'chorus-chromium-'));
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: FLAGS,
    env: { ...process.env, HOME: profile } });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  // a refused request (the first, keyless one) is logged by the browser itself, not by the page
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

// Each answer's growth as the page showed it, recorded in the page, so "streamed" is an order:
// the answer had more than one length before its trace appeared.
async function watchAnswers() {
  await page.evaluate(() => {
    window.seen = [];
    new MutationObserver(() => {
      document.querySelectorAll('.assistant').forEach((box, i) => {
        const record = (window.seen[i] ??= { lengths: [], traced: false });
        if (record.traced) return;
        const length = box.querySelector('.answer').textContent.length;
        if (length && record.lengths.at(-1) !== length) record.lengths.push(length);
        record.traced = !!box.querySelector('.trace');
      });
    }).observe(document.getElementById('messages'), { childList: true, subtree: true, characterData: true });
  });
}

async function askAndWait(question, answers) {
  await page.fill('#question', question);
  await page.press('#question', 'Enter');
  await page.locator('.assistant .trace').nth(answers - 1).waitFor(WAIT);
}

test('the page asks for the key, streams an answer with its progress, and shows the trace', async () => {
  const response = await page.goto(gateway + '/');
  assert.equal(response.status(), 200);
  await page.locator('#key-form').waitFor({ state: 'visible' });
  await page.fill('#api-key', key);
  await page.press('#api-key', 'Enter');
  await page.locator('#key-form').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => sessionStorage.getItem('chorus.apiKey')), key);
  const models = await page.locator('#model option').allTextContents();
  assert.ok(models.includes('chorus'), `models: ${models}`);

  await watchAnswers();
  await askAndWait(QUESTION, 1);
  const box = page.locator('.assistant').first();
  const progress = await box.locator('.progress li').allTextContents();
  assert.ok(progress.some((l) => l.startsWith('Planning:')), `progress: ${progress}`);
  assert.ok(progress.some((l) => l.startsWith('Analyst:') && l.includes('25%')), `progress: ${progress}`);
  const answer = await box.locator('.answer').textContent();
  assert.ok(answer.trim().length > 0);
  for (const line of progress) assert.ok(!answer.includes(line), `progress leaked into the answer: ${line}`);
  const seen = await page.evaluate(() => window.seen[0]);
  assert.ok(seen.lengths.length > 1, `the answer arrived whole: ${JSON.stringify(seen)}`);

  const agents = await box.locator('.trace td.agent').allTextContents();
  assert.deepEqual([...new Set(agents)].sort(), ['analyst', 'researcher', 'writer']);
  const figures = await box.locator('.trace .figures li').allTextContents();
  assert.ok(figures.some((f) => f.includes('growth from 120 to 150 = 25%')), `figures: ${figures}`);
  const sources = await box.locator('.trace .sources li').allTextContents();
  assert.ok(sources.length > 0 && sources.every((s) => /^\[\d+\] /.test(s)), `sources: ${sources}`);
  assert.match(await box.locator('.trace .meta').textContent(), /status (completed|degraded)/);

  await box.locator('.progress summary').click(); // open, to show the progress in the screenshot
  await box.evaluate((node) => node.scrollIntoView());
  await page.screenshot({ path: process.env.CHORUS_SCREENSHOT });
});

test('a second question continues the conversation, which the list shows and reopens', async () => {
  const id = (await page.locator('#conversation-id').textContent()).replace('Conversation ', '');
  assert.match(id, /^conv-/);
  await askAndWait('Now compute 12 * 7.', 2);
  assert.equal(await page.locator('#conversation-id').textContent(), `Conversation ${id}`);
  const figures = await page.locator('.assistant').nth(1).locator('.trace .figures li').allTextContents();
  assert.ok(figures.some((f) => f.includes('84')), `figures: ${figures}`);

  const item = page.locator(`#conversations li[data-id="${id}"]`);
  await item.locator('.when', { hasText: '4 messages' }).waitFor(WAIT);
  assert.equal(await item.getAttribute('class'), 'active');
  assert.ok((await item.locator('.title').textContent()).startsWith('Research how conversations'));

  await page.click('#new');
  assert.equal(await page.locator('#conversation-id').textContent(), 'New conversation');
  assert.equal(await page.locator('.turn').count(), 0);

  await item.locator('button.open').click();
  await page.locator('.turn').nth(1).waitFor(WAIT);
  assert.deepEqual(await page.locator('.user').allTextContents(), [QUESTION, 'Now compute 12 * 7.']);
  assert.equal(await page.locator('.assistant .answer').count(), 2);
  assert.equal(await page.locator('#conversation-id').textContent(), `Conversation ${id}`);
});

test('a reload keeps the key for this tab, and the page logged no errors', async () => {
  await page.reload();
  await page.locator('#conversations li').first().waitFor(WAIT);
  assert.equal(await page.locator('#key-form').isHidden(), true);
  assert.deepEqual(consoleErrors, []);
});
