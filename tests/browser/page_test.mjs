// Real-browser test of bscd-gateway's build page: Debian's Chromium, driven by
// playwright-core (which never downloads a browser), watches a build that
// this script reports code by code through bsc.
//
// Inputs (environment):
//   PAGE_URL    the page, e.g. http://127.0.0.1:8080/projects/demo
//   BSC         the bsc binary
//   BSC_SOCKET  bscd's producer socket for the project
//   SCREENSHOT  where to save a PNG of the finished page
//   CHROMIUM    optional, the browser binary (default /usr/bin/chromium)
//
// Exits 0 when every check passed, 1 with a message naming the failed check.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import process from 'node:process';

import { chromium } from 'playwright-core';

const WAIT_MS = 10_000;
const FIRST_STAGES = [10, 20, 21, 30];
// The rest of a successful Pieman build (no INCLUDES, so no 31).
const LATER_STAGES = [32, 33, 40, 50, 60, 70, 80, 81, 82];
const SUCCESS = 1000;

class CheckFailed extends Error {}

function log(message) {
  console.log(`[page-test] ${message}`);
}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new CheckFailed(`environment variable ${name} is not set`);
  return value;
}

let config; // set by readConfig(), first thing main() does

function readConfig() {
  return {
    pageUrl: requireEnv('PAGE_URL'),
    bsc: requireEnv('BSC'),
    socket: requireEnv('BSC_SOCKET'),
    screenshot: requireEnv('SCREENSHOT'),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
}

// Reports one code the way a builder does; bsc exits 0 once bscd accepted it.
function sendCode(code) {
  try {
    execFileSync(config.bsc, ['-a', config.socket, String(code)], {
      timeout: WAIT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    throw new CheckFailed(`bsc ${code} failed: ${error.message}${output ? `\n${output}` : ''}`);
  }
  log(`sent ${code}`);
}

// What the page shows, for failure messages: a timeout alone says little.
async function describePage(page) {
  try {
    return await page.evaluate(() => {
      const text = (id) => document.getElementById(id)?.textContent.trim() ?? '(missing)';
      const codes = [...document.querySelectorAll('#stages li')].map((li) => li.dataset.code);
      const banner = document.getElementById('banner');
      return [
        `connection=${document.getElementById('connection')?.dataset.state}`,
        `percent=${text('percent')}`,
        `current=${JSON.stringify(text('current-description'))}`,
        `stages=[${codes.join(',')}]`,
        `banner=${banner?.hidden ? 'hidden' : banner?.dataset.outcome}`,
      ].join(' ');
    });
  } catch (error) {
    return `(page state unavailable: ${error.message})`;
  }
}

async function waitFor(page, selector, what, state = 'attached') {
  try {
    await page.waitForSelector(selector, { state, timeout: WAIT_MS });
  } catch {
    throw new CheckFailed(
      `timed out after ${WAIT_MS} ms waiting for ${what} (${selector}); page: ${await describePage(page)}`,
    );
  }
}

async function stageCodes(page) {
  return page.$$eval('#stages li', (items) => items.map((li) => Number(li.dataset.code)));
}

async function percent(page) {
  const text = (await page.textContent('#percent')).trim();
  const match = /^(\d+)%$/.exec(text);
  check(match !== null, `#percent should read like "42%", it reads ${JSON.stringify(text)}`);
  const now = Number(await page.getAttribute('#progress', 'aria-valuenow'));
  check(now === Number(match[1]), `#progress aria-valuenow ${now} differs from #percent ${text}`);
  return now;
}

function sameList(actual, expected) {
  return actual.length === expected.length && actual.every((value, i) => value === expected[i]);
}

// Everything the page does must stay on the gateway's origin, without errors.
function watchPage(page, origin) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught exception: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith('http') && url.origin !== origin) {
      problems.push(`request to another host: ${request.url()}`);
    }
  });
  page.on('requestfailed', (request) => {
    // Reloading aborts the page's own event stream: expected, and harmless.
    if (new URL(request.url()).origin !== origin) {
      problems.push(`failed request to another host: ${request.url()} (${request.failure()?.errorText})`);
    }
  });
  return problems;
}

async function sendStagesAndWait(page, codes, sent) {
  let last = await percent(page);
  for (const code of codes) {
    sendCode(code);
    sent.push(code);
    await waitFor(page, `#stages li[data-code="${code}"]`, `stage ${code} to show`);
    const now = await percent(page);
    check(now > last, `progress should increase with stage ${code}: it went from ${last}% to ${now}%`);
    log(`page shows stage ${code}, ${now}%`);
    last = now;
  }
}

async function checkStagesShownOnce(page, sent, when) {
  const shown = await stageCodes(page);
  check(
    sameList(shown, sent),
    `${when}: #stages should list [${sent.join(',')}] once each, in order; it lists [${shown.join(',')}]`,
  );
}

// Each stage but the first shows how long it took, as "4.2 s" or "1m 05s".
async function checkDurations(page) {
  const durations = await page.$$eval('#stages li .stage-duration', (items) =>
    items.map((item) => item.textContent.trim()),
  );
  check(durations[0] === '', `the first stage should have no duration, it has "${durations[0]}"`);
  const format = /^(< 0\.1 s|\d+\.\d s|\d+m \d\ds|\d+h \d\dm \d\ds)$/;
  for (const [i, text] of durations.slice(1).entries()) {
    check(format.test(text), `stage ${i + 2} duration "${text}" is not like "4.2 s" or "1m 05s"`);
  }
}

async function checkElapsedFrozen(page) {
  const before = (await page.textContent('#elapsed')).trim();
  check(before !== '' && before !== '–', `#elapsed should show the build's time, it shows "${before}"`);
  await page.waitForTimeout(1500);
  const after = (await page.textContent('#elapsed')).trim();
  check(before === after, `#elapsed should stop at the final event: "${before}" became "${after}"`);
}

async function scenario(page, problems) {
  log(`opening ${config.pageUrl}`);
  const response = await page.goto(config.pageUrl, { waitUntil: 'load', timeout: WAIT_MS });
  check(response?.ok(), `GET ${config.pageUrl} answered ${response?.status()}`);
  await waitFor(page, '#connection[data-state="live"]', 'the event stream to connect');
  const waiting = (await page.textContent('#current')).trim();
  check(waiting.includes('Waiting for the build to start'), `#current before any event: "${waiting}"`);
  check(await page.isHidden('#banner'), '#banner should be hidden before the final event');
  check((await percent(page)) === 0, '#percent should be 0% before any event');
  log('page is waiting for the build');

  const sent = [];
  await sendStagesAndWait(page, FIRST_STAGES, sent);
  const percentBeforeReload = await percent(page);

  log('reloading mid-build');
  await page.reload({ waitUntil: 'load', timeout: WAIT_MS });
  await waitFor(page, `#stages li[data-code="${sent.at(-1)}"]`, 'the history after the reload');
  await waitFor(page, '#connection[data-state="live"]', 'the event stream after the reload');
  await checkStagesShownOnce(page, sent, 'after the reload');
  const percentAfterReload = await percent(page);
  check(
    percentAfterReload === percentBeforeReload,
    `progress after the reload is ${percentAfterReload}%, it was ${percentBeforeReload}%`,
  );
  log(`after the reload the page shows [${sent.join(',')}] once each, ${percentAfterReload}%`);

  await sendStagesAndWait(page, LATER_STAGES, sent);
  sendCode(SUCCESS);
  await waitFor(page, '#banner[data-outcome="success"]', 'the success banner', 'visible');
  check((await page.textContent('#percent')).trim() === '100%', '#percent should read 100%');
  check((await percent(page)) === 100, 'the progress bar should be at 100');
  // The final code is the outcome (the banner), not a stage: it is not listed.
  await checkStagesShownOnce(page, sent, 'after success');
  await waitFor(page, '#connection[data-state="finished"]', 'the connection to read "finished"');
  await checkDurations(page);
  await checkElapsedFrozen(page);
  log(`success shown: ${await describePage(page)}`);

  check(problems.length === 0, `the page had problems:\n  ${problems.join('\n  ')}`);
}

async function saveScreenshot(page, path) {
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  log(`screenshot saved to ${path}`);
}

async function main() {
  config = readConfig();
  log(`starting ${config.chromium}`);
  // launch() gives the browser a fresh temporary profile (user data dir)
  // and removes it on close; nothing is shared with another run.
  const browser = await chromium.launch({
    executablePath: config.chromium,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  let page;
  try {
    const context = await browser.newContext({
      viewport: { width: 960, height: 900 },
      colorScheme: 'light',
      reducedMotion: 'reduce', // the screenshot shows the final look, not a transition
    });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const problems = watchPage(page, new URL(config.pageUrl).origin);
    await scenario(page, problems);
    await saveScreenshot(page, config.screenshot);
  } catch (error) {
    if (page !== undefined) {
      await saveScreenshot(page, config.screenshot.replace(/(\.png)?$/, '-failure.png')).catch(() => {});
    }
    throw error;
  } finally {
    await browser.close();
  }
}

try {
  await main();
  log('PASS');
} catch (error) {
  const message = error instanceof CheckFailed ? error.message : error.stack || String(error);
  console.error(`[page-test] FAIL: ${message}`);
  process.exitCode = 1;
}
