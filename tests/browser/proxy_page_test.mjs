// Real-browser test of the build page behind nginx, across a gateway killed
// mid-build (docs/proxy.md, "A gateway dies"): Debian's Chromium, driven by
// playwright-core, opens the page through nginx in front of two gateways
// while this script reports a build code by code through bsc. Mid-build it
// finds the gateway the page's event stream is on, kills it (SIGKILL),
// reports two codes while the page has no stream, and waits until the page
// is back, through nginx, on the other gateway; then the build ends.
//
// What the page shows is recorded after every change of its DOM (a
// MutationObserver installed before the page's own script runs) and written
// to RESULT; gateway_proxy_test.cpp checks each snapshot against the history
// in Redis. Checked here, as it happens:
// - each stage shows on the page before the next code is sent (but for the
//   two sent while it is away, which come on its return);
// - the page's gateway is found, not guessed: the one whose SSE viewers
//   went up by one when the page connected, the other's unchanged;
// - after the kill the page says "reconnecting", then "live" again, and
//   then the other gateway has it (one viewer more than before, which
//   joined its feed of the build: no history read of its own) while the
//   killed one answers nothing;
// - the success banner and "finished" at the end; no script error and no
//   request to another host.
//
// Inputs (environment):
//   PAGE_URL            the page through nginx, e.g. http://127.0.0.1:8080/projects/demo
//   BSC                 the bsc binary
//   BSC_SOCKET          bscd's producer socket for the project
//   GATEWAYS            the gateways behind nginx, "PORT:PID,PORT:PID"
//   RESULT              where to write {"victim":PORT,"survivor":PORT,"snapshots":[...]}
//   SCREENSHOT_FAILURE  where to save a PNG of the page when a check fails
//   CHROMIUM            optional, the browser binary (default /usr/bin/chromium)
//
// Exits 0 when every check passed, 1 with a message naming the failed check.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import process from 'node:process';
import { setTimeout as delay } from 'node:timers/promises';

import {
  CheckFailed,
  check,
  launchChromium,
  requireEnv,
  runTest,
  sendCode as send,
  watchPage,
} from './harness.mjs';

const WAIT_MS = 10_000;
// The page's stream is reconnected after the gateway's `retry:` (1 to 3 s).
const RECONNECT_MS = 10_000;
const POLL_MS = 20;
// The shipped catalog's stages in order, then success: the first ones while
// the page's gateway lives, two while the page has no stream, the rest on
// the other gateway.
const BEFORE_KILL = [10, 20, 21, 30, 31, 32];
const WHILE_AWAY = [33, 40];
const AFTER_RETURN = [50, 60, 70, 80, 81, 82];
const SUCCESS = 1000;
// The kill cuts the page's stream mid-response: Chromium says so on the
// console, and the request fails. Nothing else may.
const CUT_STREAM = 'net::ERR_INCOMPLETE_CHUNKED_ENCODING';

const started = Date.now();

// Each line with the time since the start: where a slow run's time went.
function log(message) {
  console.log(`[proxy-page-test +${Date.now() - started} ms] ${message}`);
}

let config; // set by readConfig(), first thing main() does

function readConfig() {
  const gateways = requireEnv('GATEWAYS')
    .split(',')
    .map((item) => {
      const [port, pid] = item.split(':').map(Number);
      check(port > 0 && pid > 0, `GATEWAYS should read "PORT:PID,PORT:PID": ${item}`);
      return { port, pid };
    });
  check(gateways.length === 2, `two gateways expected, GATEWAYS has ${gateways.length}`);
  return {
    pageUrl: requireEnv('PAGE_URL'),
    bsc: requireEnv('BSC'),
    socket: requireEnv('BSC_SOCKET'),
    gateways,
    result: requireEnv('RESULT'),
    screenshotFailure: requireEnv('SCREENSHOT_FAILURE'),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
}

function sendCode(code) {
  send(config.bsc, config.socket, code, WAIT_MS);
  log(`sent ${code}`);
}

// Runs in the page before its own script: a snapshot of what the page shows
// after every change of its DOM, kept when it differs from the one before
// (the clocks that tick each second are not in it). The callbacks run after
// each handler of the page, however loaded the machine: no state is missed.
function recordSnapshots() {
  window.bscdSnapshots = [];
  let last = '';
  const text = (id) => document.getElementById(id)?.textContent.replace(/\s+/g, ' ').trim();
  const take = () => {
    const progress = document.getElementById('progress');
    const upcoming = document.getElementById('upcoming');
    if (progress === null || upcoming === null) return; // not parsed yet
    const banner = document.getElementById('banner');
    const snapshot = {
      connection: document.getElementById('connection').dataset.state,
      percent: text('percent'),
      valuenow: progress.getAttribute('aria-valuenow'),
      fill: document.getElementById('progress-fill').style.width,
      stages: [...document.querySelectorAll('#stages li')].map((li) => ({
        id: li.dataset.id,
        code: Number(li.dataset.code),
        description: li.querySelector('.stage-description')?.textContent ?? '',
      })),
      stageCount: text('stage-count'),
      current: document.getElementById('current').hidden ? null : text('current-description'),
      banner: banner.hidden
        ? null
        : {
            outcome: banner.dataset.outcome ?? '',
            title: text('banner-title'),
            detail: text('banner-detail'),
          },
      stopped: document.querySelector('.stopped-here') !== null,
      working: document.getElementById('working').hidden ? null : text('working-what'),
      upcoming: [...upcoming.querySelectorAll('li')].map((li) => Number(li.dataset.code)),
    };
    const key = JSON.stringify(snapshot);
    if (key === last) return;
    last = key;
    window.bscdSnapshots.push({ at: Math.round(performance.now()), ...snapshot });
  };
  new MutationObserver(take).observe(document, {
    attributes: true,
    childList: true,
    subtree: true,
    characterData: true,
  });
}

// What the page shows, for failure messages: a timeout alone says little.
async function describePage(page) {
  try {
    return JSON.stringify(await page.evaluate(() => window.bscdSnapshots.at(-1)));
  } catch (error) {
    return `(page state unavailable: ${error.message})`;
  }
}

async function waitFor(page, selector, what, timeout = WAIT_MS) {
  try {
    await page.waitForSelector(selector, { state: 'attached', timeout });
  } catch {
    throw new CheckFailed(
      `timed out after ${timeout} ms waiting for ${what} (${selector}); page: ${await describePage(page)}`,
    );
  }
}

// Polls `probe` until it returns a value other than undefined, or throws at
// the deadline naming `what` and the last thing `probe` said was missing.
async function pollFor(what, probe, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  const missing = { last: '' };
  for (;;) {
    const value = await probe(missing);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw new CheckFailed(`timed out after ${timeout} ms waiting for ${what}: ${missing.last}`);
    }
    await delay(POLL_MS);
  }
}

// One series of a gateway's own /metrics (not through nginx, which would
// ask whichever gateway); null when it does not answer.
async function metric(gateway, series) {
  try {
    const response = await fetch(`http://127.0.0.1:${gateway.port}/metrics`);
    const line = (await response.text()).split('\n').find((l) => l.startsWith(`${series} `));
    return response.ok && line !== undefined ? Number(line.slice(series.length + 1)) : null;
  } catch {
    return null;
  }
}

function sseViewers(gateway) {
  return metric(gateway, 'bscd_gateway_viewers{transport="sse"}');
}

// Viewers that joined a project the gateway followed already: no history
// read of their own.
function joinedFollowed(gateway) {
  return metric(gateway, 'bscd_gateway_history_reads_coalesced_total');
}

async function sendStagesAndWait(page, codes, sent) {
  for (const code of codes) {
    sendCode(code);
    sent.push(code);
    await waitFor(page, `#stages li[data-code="${code}"]`, `stage ${code} to show`);
  }
}

// The gateway the page's stream is on: the one whose viewers went up by one
// since `before`, while the other's stayed the same.
async function findPagesGateway(before) {
  const [victim, survivor] = await pollFor(
    "the page's stream on one gateway's /metrics",
    async (missing) => {
      const now = await Promise.all(config.gateways.map(sseViewers));
      missing.last = `SSE viewers were ${JSON.stringify(before)}, now ${JSON.stringify(now)}`;
      const rose = now.map((n, i) => n !== null && n === before[i] + 1);
      const same = now.map((n, i) => n === before[i]);
      if (rose[0] && same[1]) return config.gateways;
      if (rose[1] && same[0]) return [...config.gateways].reverse();
      return undefined;
    },
  );
  log(`the page's stream is on the gateway on port ${victim.port} (pid ${victim.pid})`);
  return { victim, survivor };
}

async function scenario(page, problems, failed, result) {
  const before = await Promise.all(config.gateways.map(sseViewers));
  check(
    before.every((n) => n !== null),
    `every gateway should answer /metrics before the page opens: ${JSON.stringify(before)}`,
  );
  log(`opening ${config.pageUrl}`);
  const response = await page.goto(config.pageUrl, { waitUntil: 'load', timeout: WAIT_MS });
  check(response?.ok(), `GET ${config.pageUrl} answered ${response?.status()}`);
  await waitFor(page, '#connection[data-state="live"]', 'the event stream to connect');
  const { victim, survivor } = await findPagesGateway(before);
  result.victim = victim.port;
  result.survivor = survivor.port;

  const sent = [];
  await sendStagesAndWait(page, BEFORE_KILL, sent);

  const joinedBefore = await joinedFollowed(survivor);
  process.kill(victim.pid, 'SIGKILL');
  log(`killed the gateway on port ${victim.port}`);
  await pollFor('the killed gateway to stop answering', async (missing) => {
    missing.last = 'its /metrics still answers';
    return (await sseViewers(victim)) === null ? true : undefined;
  });
  // The page notices its stream is cut; the build goes on meanwhile.
  await waitFor(page, '#connection[data-state="reconnecting"]', 'the page to notice the kill');
  for (const code of WHILE_AWAY) sendCode(code);
  sent.push(...WHILE_AWAY);
  await waitFor(
    page,
    `#stages li[data-code="${WHILE_AWAY.at(-1)}"]`,
    'the stages sent while the page was away',
    RECONNECT_MS,
  );
  await waitFor(page, '#connection[data-state="live"]', 'the page to be live again');
  const survivorIndex = config.gateways.indexOf(survivor);
  await pollFor("the page's stream on the other gateway", async (missing) => {
    const now = await sseViewers(survivor);
    missing.last = `its SSE viewers were ${before[survivorIndex]}, now ${now}`;
    return now === before[survivorIndex] + 1 ? true : undefined;
  });
  check(
    (await sseViewers(victim)) === null,
    `the killed gateway on port ${victim.port} answered /metrics`,
  );
  // It followed the build already (its other viewer): the page joined that.
  const joined = await joinedFollowed(survivor);
  check(
    joinedBefore !== null && joined === joinedBefore + 1,
    `the page should have joined the other gateway's feed of the build: ` +
      `bscd_gateway_history_reads_coalesced_total went from ${joinedBefore} to ${joined}`,
  );
  log(`the page is back, on the gateway on port ${survivor.port}`);

  await sendStagesAndWait(page, AFTER_RETURN, sent);
  sendCode(SUCCESS);
  await waitFor(page, '#banner[data-outcome="success"]', 'the success banner');
  await waitFor(page, '#connection[data-state="finished"]', 'the connection to read "finished"');
  const shown = await page.$$eval('#stages li', (items) =>
    items.map((li) => Number(li.dataset.code)),
  );
  check(
    shown.join(',') === sent.join(','),
    `the page should list [${sent.join(',')}] once each, in order; it lists [${shown.join(',')}]`,
  );
  const cut = `console error: Failed to load resource: ${CUT_STREAM}`;
  const others = problems.filter((problem) => problem !== cut);
  check(others.length === 0, `the page had problems:\n  ${others.join('\n  ')}`);
  // The page closes its stream itself once the build is over: when that
  // comes before the gateway's end of it, that request is aborted too.
  const stream = new URL(config.pageUrl).origin + '/api/v1/projects/demo/events';
  const closed = failed.length === 2 && failed[1] === `${stream} net::ERR_ABORTED`;
  check(
    problems.length === 1 &&
      (failed.length === 1 || closed) &&
      failed[0] === `${stream} ${CUT_STREAM}`,
    `only the stream the kill cut should have failed, once: failed ${JSON.stringify(failed)}, ` +
      `console ${JSON.stringify(problems)}`,
  );
  log(`success shown: ${await describePage(page)}`);
}

async function main() {
  config = readConfig();
  log(`starting ${config.chromium}`);
  const browser = await launchChromium(config.chromium);
  const result = { victim: null, survivor: null, snapshots: [] };
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 960, height: 900 } });
    await context.addInitScript(recordSnapshots);
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const problems = watchPage(page, new URL(config.pageUrl).origin);
    // Every request that failed: only the stream the kill cut may.
    const failed = [];
    page.on('requestfailed', (request) =>
      failed.push(`${request.url()} ${request.failure()?.errorText}`),
    );
    await scenario(page, problems, failed, result);
  } catch (error) {
    if (page !== undefined) {
      mkdirSync(dirname(config.screenshotFailure), { recursive: true });
      await page.screenshot({ path: config.screenshotFailure, fullPage: true }).catch(() => {});
    }
    throw error;
  } finally {
    // Written also after a failure: the snapshots say what the page did.
    if (page !== undefined) {
      result.snapshots = await page.evaluate(() => window.bscdSnapshots).catch(() => []);
    }
    writeFileSync(config.result, JSON.stringify(result));
    await browser.close();
  }
}

await runTest('proxy-page-test', main);
