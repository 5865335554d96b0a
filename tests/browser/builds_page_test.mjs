// Real-browser test of bscd-gateway's operator page (GET /builds): Debian's
// Chromium, driven by playwright-core, shows the builds the C++ test started
// (tests/integration/gateway_builds_test.cpp), and follows them live.
//
// Inputs (environment):
//   PAGE_URL    the page, e.g. http://127.0.0.1:8080/builds?token=...
//   BSC         the bsc binary
//   BSC_SOCKET  bscd's producer socket of the running build "running"
//   SCREENSHOT  where to save a PNG of the page (and -phone.png beside it)
//   CHROMIUM    optional, the browser binary (default /usr/bin/chromium)
//
// The builds: "running" (profile "p", at code 10, with a time left),
// "ended" (succeeded). Exits 0 when every check passed, 1 naming the one
// that failed.

import process from 'node:process';

import { CheckFailed, check, launchChromium, requireEnv, runTest, sendCode, watchPage } from './harness.mjs';

const WAIT_MS = 10_000;

const config = {
  pageUrl: requireEnv('PAGE_URL'),
  bsc: requireEnv('BSC'),
  socket: requireEnv('BSC_SOCKET'),
  screenshot: requireEnv('SCREENSHOT'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};

// The text of a build's cell (by its label), or null without the row.
function cellText(page, project, label) {
  return page.evaluate(
    ([p, l]) => document.querySelector(`tr[data-project="${p}"] td[data-label="${l}"]`)?.textContent ?? null,
    [project, label],
  );
}

async function waitFor(page, what, predicate, arg) {
  try {
    await page.waitForFunction(predicate, arg, { timeout: WAIT_MS });
  } catch {
    const rows = await page.evaluate(() =>
      [...document.querySelectorAll('#builds tbody tr')].map((tr) => tr.textContent.trim()).join(' | '),
    );
    throw new CheckFailed(`${what} within ${WAIT_MS} ms; the rows: ${rows}`);
  }
}

async function scenario(page, problems) {
  await page.goto(config.pageUrl);
  await waitFor(page, 'both builds listed with their states', () => {
    const state = (p) => document.querySelector(`tr[data-project="${p}"]`)?.dataset.state;
    return state('running') === 'running' && state('ended') === 'succeeded';
  });
  const order = await page.evaluate(() => [...document.querySelectorAll('#builds tbody tr')].map((tr) => tr.dataset.project));
  check(order[0] === 'running' && order[1] === 'ended', `newest first: got ${order}`);

  const link = await page.getAttribute('tr[data-project="running"] a', 'href');
  check(/^\/projects\/running\?token=[0-9a-f]{64}$/.test(link), `the build's link carries its token: ${link}`);
  check((await cellText(page, 'running', 'Profile')) === 'p', 'the profile is shown');
  check((await cellText(page, 'ended', 'Outcome')) === 'succeeded', 'the ended build says it succeeded');
  check(/^took \d/.test(await cellText(page, 'ended', 'Time left')), 'the ended build shows its time');

  // The time left counts down between the gateway's answers.
  const left = await cellText(page, 'running', 'Time left');
  check(/^about \d/.test(left), `the running build has a time left: "${left}"`);
  await waitFor(
    page,
    'the time left counting down',
    (before) => document.querySelector('tr[data-project="running"] td[data-label="Time left"]')?.textContent !== before,
    left,
  );

  // Live: a code moves the row on, with no reload.
  sendCode(config.bsc, config.socket, 20, WAIT_MS);
  await waitFor(page, 'the row showing code 20', () =>
    (document.querySelector('tr[data-project="running"] .stage-name')?.textContent ?? '').startsWith('20 '),
  );
  check((await page.textContent('#summary')).startsWith('1 running, 2 listed'), 'the summary counts the builds');
  check(problems.length === 0, `the page had problems: ${problems.join('; ')}`);
  await page.screenshot({ path: config.screenshot, fullPage: true });

  // A phone: one card per build, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `on a phone the page is ${overflow} px wider than the screen`);
  const labelled = await page.evaluate(
    () => getComputedStyle(document.querySelector('td[data-label="Stage"]'), '::before').content,
  );
  check(labelled === '"Stage"', `on a phone each value is labelled: got ${labelled}`);
  await page.screenshot({ path: config.screenshot.replace(/\.png$/, '-phone.png'), fullPage: true });
}

async function main() {
  const browser = await launchChromium(config.chromium);
  try {
    const page = await (await browser.newContext({ viewport: { width: 1100, height: 700 } })).newPage();
    page.setDefaultTimeout(WAIT_MS);
    await scenario(page, watchPage(page, new URL(config.pageUrl).origin));
  } finally {
    await browser.close();
  }
}

await runTest('builds-page-test', main);
