// Real-browser test of bscd-gateway's build page: Debian's Chromium, driven by
// playwright-core (which never downloads a browser), watches a build that
// this script reports code by code through bsc.
//
// The build's profile has a seeded history (gateway_browser_test.cpp): each
// stage usually 4 s, 32 usually 10 s, 33 about 1 s (longest 1.1 s), and the
// gateway runs with --stall-margin 0. Checked:
// - mid-build, while 32 runs: the stages still to come, greyed, each with its
//   usual time; "About … left, done around HH:MM" (the viewer's clock), the
//   range and where the estimate comes from; no warning;
// - 33 held ~2 s: "Slower than usual", then "Probably stalled", each waited
//   for on the page (with a deadline), in words;
// - at the end: a chart with this build's bar and the usual one per stage,
//   the success said once, nothing left of the estimate;
// - on a phone's viewport (390×844), mid-build and at the end: no
//   horizontal scroll, no text under 12 px, chart labels within the chart.
//
// Inputs (environment):
//   PAGE_URL             the page, e.g. http://127.0.0.1:8080/projects/demo
//   BSC                  the bsc binary
//   BSC_SOCKET           bscd's producer socket for the project
//   PROFILE              the build's profile (its history is seeded)
//   SCREENSHOT           where to save a PNG of the finished page
//   SCREENSHOT_MIDBUILD  where to save a PNG of the page with the warning
//   SCREENSHOT_PHONE     where to save a PNG of the finished page on a phone
//   CHROMIUM             optional, the browser binary (default /usr/bin/chromium)
//
// Exits 0 when every check passed, 1 with a message naming the failed check.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import process from 'node:process';

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
const FIRST_STAGES = [10, 20, 21, 30];
// The rest of a successful Pieman build (no INCLUDES, so no 31): 32 ends the
// long stage the page is checked in; the script holds 33, then sends the rest.
const LONG_STAGE = 32;
const HELD_STAGE = 33;
const LATER_STAGES = [40, 50, 60, 70, 80, 81, 82];
const SUCCESS = 1000;
// The held stage's thresholds (seeded: 90th percentile about 1.1 s, stalled
// at twice its longest, 2.2 s), and room for a loaded machine.
const PACE_WAIT_MS = 10_000;
const PHONE = { width: 390, height: 844 };
const MIN_FONT_PX = 12;

function log(message) {
  console.log(`[page-test] ${message}`);
}

let config; // set by readConfig(), first thing main() does

function readConfig() {
  return {
    pageUrl: requireEnv('PAGE_URL'),
    bsc: requireEnv('BSC'),
    socket: requireEnv('BSC_SOCKET'),
    profile: requireEnv('PROFILE'),
    screenshot: requireEnv('SCREENSHOT'),
    screenshotMidbuild: requireEnv('SCREENSHOT_MIDBUILD'),
    screenshotPhone: requireEnv('SCREENSHOT_PHONE'),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
}

function sendCode(code) {
  send(config.bsc, config.socket, code, WAIT_MS);
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
        `estimate=${JSON.stringify(text('estimate'))}`,
        `pace=${document.getElementById('pace')?.dataset.pace ?? 'none'}`,
        `working=${JSON.stringify(text('working'))}`,
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
async function sendStagesAndWait(page, codes, sent) {
  let last = await percent(page);
  for (const code of codes) {
    sendCode(code);
    sent.push(code);
    await waitFor(page, `#stages li[data-code="${code}"]`, `stage ${code} to show`);
    const now = await percent(page);
    check(
      now > last,
      `progress should increase with stage ${code}: it went from ${last}% to ${now}%`,
    );
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

// Each stage shows how long it took, as "4.2 s" or "1m 05s": the first one
// since the build's start (the gateway's plan tells it), the others since the
// stage before.
async function checkDurations(page) {
  const durations = await page.$$eval('#stages li .stage-duration', (items) =>
    items.map((item) => item.textContent.trim()),
  );
  const format = /^(< 0\.1 s|\d+\.\d s|\d+m \d\ds|\d+h \d\dm \d\ds)$/;
  for (const [i, text] of durations.entries()) {
    check(format.test(text), `stage ${i + 1} duration "${text}" is not like "4.2 s" or "1m 05s"`);
  }
}

async function checkElapsedFrozen(page) {
  const before = (await page.textContent('#elapsed')).trim();
  check(
    before !== '' && before !== '–',
    `#elapsed should show the build's time, it shows "${before}"`,
  );
  await page.waitForTimeout(1500);
  const after = (await page.textContent('#elapsed')).trim();
  check(before === after, `#elapsed should stop at the final event: "${before}" became "${after}"`);
}

async function visibleText(page, selector) {
  if (!(await page.isVisible(selector))) return null;
  return (await page.textContent(selector)).replace(/\s+/g, ' ').trim();
}

// "14:32" on the viewer's clock (the context's locale is en-GB): between
// now and `withinMs` from now, across midnight too.
function checkClockTime(text, withinMs, what) {
  const match = /(\d{1,2}):(\d{2})/.exec(text);
  check(match !== null, `${what} should name a time like 14:32: ${JSON.stringify(text)}`);
  const told = Number(match[1]) * 60 + Number(match[2]);
  const now = new Date();
  const nowMinutes = now.getHours() * 60 + now.getMinutes();
  const ahead = (told - nowMinutes + 24 * 60) % (24 * 60);
  check(
    ahead <= Math.ceil(withinMs / 60000) + 1,
    `${what}: ${match[0]} is not within ${withinMs / 1000} s of now (${now.toTimeString().slice(0, 5)})`,
  );
}

// While the long stage runs (its code not sent yet): what is still to come,
// greyed with usual times, the time left and where it comes from.
async function checkMidBuildEstimate(page, sent) {
  const after = sent.at(-1);
  await waitFor(page, '#estimate-left', 'the time left', 'visible');
  await waitFor(page, '#working-usual', 'the current stage’s usual time', 'visible');

  const upcoming = await page.$$eval('#upcoming li', (items) =>
    items.map((li) => ({
      code: Number(li.dataset.code),
      usual: li.querySelector('.stage-duration')?.textContent.trim() ?? '',
      color: getComputedStyle(li).color,
    })),
  );
  const expected = [HELD_STAGE, ...LATER_STAGES, SUCCESS];
  const codes = upcoming.map((u) => u.code);
  check(
    sameList(codes, expected),
    `after ${after}, #upcoming should list [${expected.join(',')}] (the plan past the current stage ${LONG_STAGE}); it lists [${codes.join(',')}]`,
  );
  for (const u of upcoming) {
    check(
      /^usually \d+\.\d s$/.test(u.usual),
      `upcoming stage ${u.code} should read "usually 4.0 s", it reads ${JSON.stringify(u.usual)}`,
    );
  }
  const held = upcoming.find((u) => u.code === HELD_STAGE);
  check(
    held.usual === 'usually 1.0 s',
    `stage ${HELD_STAGE} is seeded at 1 s usually, the page says ${JSON.stringify(held.usual)}`,
  );
  const doneColor = await page.$eval(
    '#stages li .stage-description',
    (d) => getComputedStyle(d).color,
  );
  const upcomingColor = await page.$eval(
    '#upcoming li .stage-description',
    (d) => getComputedStyle(d).color,
  );
  check(
    upcomingColor !== doneColor,
    `stages to come should be greyed: their text is ${upcomingColor}, done ones' ${doneColor}`,
  );
  const label = await visibleText(page, '#upcoming-label');
  check(
    label === 'Still to come',
    `#upcoming-label should read "Still to come", it reads ${JSON.stringify(label)}`,
  );

  const working = await visibleText(page, '#working');
  check(
    /Working towards “Operating system upgraded” usually 10\.0 s/.test(working ?? ''),
    `#working should name stage ${LONG_STAGE} and its usual 10.0 s: ${JSON.stringify(working)}`,
  );

  const left = await visibleText(page, '#estimate-left');
  const leftMatch = /^About (\d+) (s|min) left$/.exec(left ?? '');
  check(
    leftMatch !== null,
    `#estimate-left should read "About 40 s left": ${JSON.stringify(left)}`,
  );
  // Seeded: what 32 has left of its 10 s, then 1 s and 8 stages of 4 s.
  const leftMs = Number(leftMatch[1]) * (leftMatch[2] === 'min' ? 60000 : 1000);
  check(
    leftMs >= 30_000 && leftMs <= 60_000,
    `the time left should be 33–43 s (seeded medians), the page says ${JSON.stringify(left)}`,
  );
  const done = await visibleText(page, '#estimate-done');
  check(
    /^, done around \d{1,2}:\d{2}$/.test(done ?? ''),
    `#estimate-done should read ", done around 14:32": ${JSON.stringify(done)}`,
  );
  checkClockTime(done, leftMs + 60_000, '#estimate-done');
  const range = await visibleText(page, '#estimate-range');
  check(
    /^Likely between \d+ (s|min) and \d+ (s|min)\.$/.test(range ?? ''),
    `#estimate-range should give the range: ${JSON.stringify(range)}`,
  );
  const basis = await visibleText(page, '#estimate-basis');
  const wantBasis = `Learnt from 3 earlier successful builds of this kind (${config.profile}).`;
  check(
    basis === wantBasis,
    `#estimate-basis should read ${JSON.stringify(wantBasis)}, it reads ${JSON.stringify(basis)}`,
  );
  check(
    await page.isHidden('#pace'),
    `no pace warning is due yet, the page shows ${JSON.stringify(await page.textContent('#pace'))}`,
  );
  log(`mid-build: ${left}${done}; ${range} ${upcoming.length} stages to come`);
}

// Every warning the page shows, in order, with its words: the slower one
// lasts about a second, and a loaded machine must not make the test miss it
// (a MutationObserver's callback runs after each change, whatever the load).
async function recordPaces(page) {
  await page.evaluate(() => {
    const pace = document.getElementById('pace');
    window.bscdPaces = [];
    const note = () => {
      const shown = pace.hidden ? 'none' : pace.dataset.pace;
      if (window.bscdPaces.at(-1)?.pace === shown) return;
      window.bscdPaces.push({ pace: shown, text: pace.textContent.replace(/\s+/g, ' ').trim() });
    };
    note();
    new MutationObserver(note).observe(pace, {
      attributes: true,
      childList: true,
      subtree: true,
      characterData: true,
    });
  });
}

// The held stage runs past its thresholds: the page says so, in words,
// slower than usual first, then probably stalled.
async function checkPaceWarnings(page) {
  const selector = '#pace[data-pace="stalled"]';
  try {
    await page.waitForSelector(selector, { state: 'visible', timeout: PACE_WAIT_MS });
  } catch {
    throw new CheckFailed(
      `stage ${HELD_STAGE} held: no "Probably stalled." within ${PACE_WAIT_MS} ms (${selector}); ` +
        `warnings shown: ${JSON.stringify(await page.evaluate(() => window.bscdPaces))}; ` +
        `page: ${await describePage(page)}`,
    );
  }
  const shown = await page.evaluate(() => window.bscdPaces);
  const paces = shown.map((p) => p.pace);
  check(
    sameList(paces, ['none', 'slower', 'stalled']),
    `stage ${HELD_STAGE} held: the page should warn "slower", then "stalled"; it showed ` +
      `${JSON.stringify(shown)}`,
  );
  const [, slower, stalled] = shown;
  for (const [text, title] of [
    [slower.text, 'Slower than usual.'],
    [stalled.text, 'Probably stalled.'],
  ]) {
    check(
      text.includes(title) && text.includes('“Kernel installed” has run for'),
      `the warning should say "${title}" and name the stage: ${JSON.stringify(text)}`,
    );
  }
  check(
    slower.text.includes('it usually takes 1.0 s'),
    `the slower warning should give the usual time: ${JSON.stringify(slower.text)}`,
  );
  log(`pace: ${slower.text} / ${stalled.text}`);
  const left = await visibleText(page, '#estimate-left');
  check(
    /^(At least \d+ (s|min) left|Taking longer than usual)$/.test(left ?? ''),
    `when stalled, the time left is a lower bound, not "About": ${JSON.stringify(left)}`,
  );
  check(
    !(await visibleText(page, '#estimate-done')),
    'when stalled, no "done around" time is promised',
  );
}

// At the end: one chart row per stage of this build (the success code's is
// the finishing work), each with this build's bar and the usual one.
async function checkChart(page, sent) {
  await waitFor(page, '#chart svg .chart-row', 'the chart', 'visible');
  const rows = await page.$$eval('#chart svg .chart-row', (groups) =>
    groups.map((g) => {
      const width = (selector) => g.querySelector(selector)?.getBBox().width ?? -1;
      return {
        code: Number(g.dataset.code),
        label: g.querySelector('.chart-label')?.textContent ?? '',
        values: [...g.querySelectorAll('.chart-value')].map((t) => t.textContent),
        this: width('rect.bar-this'),
        usual: width('rect.bar-usual'),
      };
    }),
  );
  const expected = [...sent, SUCCESS];
  const codes = rows.map((r) => r.code);
  check(
    sameList(codes, expected),
    `the chart should have rows [${expected.join(',')}], it has [${codes.join(',')}]`,
  );
  for (const r of rows) {
    check(r.this > 0, `chart row ${r.code}: no bar for this build (width ${r.this})`);
    check(r.usual > 0, `chart row ${r.code}: no bar for the usual time (width ${r.usual})`);
    check(r.label !== '', `chart row ${r.code} has no label`);
    check(
      r.values.length === 2 && /^\S/.test(r.values[0]) && r.values[1].startsWith('usual '),
      `chart row ${r.code} should write both times beside the bars: ${JSON.stringify(r.values)}`,
    );
  }
  const long = rows.find((r) => r.code === LONG_STAGE);
  check(
    long.values[1] === 'usual 10.0 s',
    `chart row ${LONG_STAGE}: the usual should read "usual 10.0 s": ${JSON.stringify(long.values)}`,
  );
  const legend = await visibleText(page, '#chart-legend');
  check(
    legend?.includes('this build') && legend.includes('usual (median of 3 earlier builds)'),
    `the chart's legend: ${JSON.stringify(legend)}`,
  );
  log(`chart: ${rows.length} rows, e.g. ${long.label}: ${long.values.join(', ')}`);
}

async function checkSaidOnce(page) {
  const body = await page.evaluate(() => document.body.innerText);
  const said = body.match(/succeeded/gi) ?? [];
  check(
    said.length === 1,
    `the page should say "succeeded" once, it does ${said.length} times:\n${body}`,
  );
  for (const selector of ['#estimate', '#pace', '#upcoming-box', '#working']) {
    check(await page.isHidden(selector), `${selector} should be gone once the build is over`);
  }
}

// Legible on a phone: no sideways scrolling, no tiny text, chart labels cut
// to the chart's width.
async function checkPhoneLayout(page, when) {
  const layout = await page.evaluate((minPx) => {
    const small = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const owner = node.parentElement;
      const shown = owner.checkVisibility() && !owner.closest('.visually-hidden, title');
      if (node.textContent.trim() === '' || !shown) continue;
      const size = parseFloat(getComputedStyle(owner).fontSize);
      if (size < minPx)
        small.push(
          `${owner.tagName.toLowerCase()}.${owner.getAttribute('class')} ${size}px "${node.textContent.trim().slice(0, 30)}"`,
        );
    }
    const svg = document.querySelector('#chart svg');
    const overflowing =
      svg === null
        ? []
        : [...svg.querySelectorAll('.chart-label')]
            .filter((t) => t.getComputedTextLength() > svg.getBoundingClientRect().width + 0.5)
            .map((t) => t.textContent);
    return {
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      innerWidth: window.innerWidth,
      small,
      overflowing,
    };
  }, MIN_FONT_PX);
  // A mobile browser zooms out to show a page wider than the screen, and
  // innerWidth grows with it: the screen's width is the measure.
  check(
    layout.scrollWidth <= PHONE.width && layout.innerWidth <= PHONE.width,
    `${when}, on a ${PHONE.width} px wide phone: the page is ${layout.scrollWidth} px wide, ` +
      `shown ${layout.innerWidth} px wide (scrolls sideways or is zoomed out)`,
  );
  check(
    layout.small.length === 0,
    `${when}, on a phone: text under ${MIN_FONT_PX} px: ${layout.small.join('; ')}`,
  );
  check(
    layout.overflowing.length === 0,
    `${when}, on a phone: chart labels wider than the chart: ${layout.overflowing.join('; ')}`,
  );
  log(
    `phone ${when}: ${layout.scrollWidth} px wide in ${layout.innerWidth} (layout ${layout.clientWidth}), text ≥ ${MIN_FONT_PX} px`,
  );
}

async function scenario(page, phone, problems) {
  log(`opening ${config.pageUrl}`);
  const response = await page.goto(config.pageUrl, { waitUntil: 'load', timeout: WAIT_MS });
  check(response?.ok(), `GET ${config.pageUrl} answered ${response?.status()}`);
  await waitFor(page, '#connection[data-state="live"]', 'the event stream to connect');
  const waiting = (await page.textContent('#current')).trim();
  check(
    waiting.includes('Waiting for the build to start'),
    `#current before any event: "${waiting}"`,
  );
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

  await checkMidBuildEstimate(page, sent);

  // The phone follows the rest of the build as well.
  await phone.goto(config.pageUrl, { waitUntil: 'load', timeout: WAIT_MS });
  await waitFor(phone, '#estimate-left', 'the time left on the phone', 'visible');
  await checkPhoneLayout(phone, 'mid-build');

  await recordPaces(page);
  await sendStagesAndWait(page, [LONG_STAGE], sent);
  await page
    .waitForFunction(
      () => document.getElementById('working-what').textContent.includes('Kernel installed'),
      null,
      { timeout: WAIT_MS },
    )
    .catch(async () => {
      throw new CheckFailed(
        `stage ${HELD_STAGE} should be the current one; page: ${await describePage(page)}`,
      );
    });
  await checkPaceWarnings(page);
  await waitFor(phone, '#pace[data-pace="stalled"]', 'the stalled warning on the phone', 'visible');
  await checkPhoneLayout(phone, 'with the warning');
  await saveScreenshot(page, config.screenshotMidbuild);

  await sendStagesAndWait(page, [HELD_STAGE, ...LATER_STAGES], sent);
  sendCode(SUCCESS);
  await waitFor(page, '#banner[data-outcome="success"]', 'the success banner', 'visible');
  check((await page.textContent('#percent')).trim() === '100%', '#percent should read 100%');
  check((await percent(page)) === 100, 'the progress bar should be at 100');
  // The final code is the outcome (the banner), not a stage: it is not listed.
  await checkStagesShownOnce(page, sent, 'after success');
  await waitFor(page, '#connection[data-state="finished"]', 'the connection to read "finished"');
  await checkDurations(page);
  await checkChart(page, sent);
  await checkSaidOnce(page);
  await checkElapsedFrozen(page);
  log(`success shown: ${await describePage(page)}`);

  await waitFor(phone, '#chart svg .chart-row', 'the chart on the phone', 'visible');
  await checkPhoneLayout(phone, 'at the end');
  await saveScreenshot(phone, config.screenshotPhone);

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
  const browser = await launchChromium(config.chromium);
  let page;
  let phone;
  try {
    // en-GB: "done around 14:32" on a 24-hour clock, which the check reads.
    const context = await browser.newContext({
      viewport: { width: 960, height: 900 },
      colorScheme: 'light',
      locale: 'en-GB',
      reducedMotion: 'reduce', // the screenshot shows the final look, not a transition
    });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const phoneContext = await browser.newContext({
      viewport: PHONE,
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: 'light',
      locale: 'en-GB',
      reducedMotion: 'reduce',
    });
    phone = await phoneContext.newPage();
    phone.setDefaultTimeout(WAIT_MS);
    const origin = new URL(config.pageUrl).origin;
    const problems = watchPage(page, origin);
    const phoneProblems = watchPage(phone, origin);
    await scenario(page, phone, problems);
    check(
      phoneProblems.length === 0,
      `the phone's page had problems:\n  ${phoneProblems.join('\n  ')}`,
    );
    await saveScreenshot(page, config.screenshot);
  } catch (error) {
    if (page !== undefined) {
      await saveScreenshot(page, config.screenshot.replace(/(\.png)?$/, '-failure.png')).catch(
        () => {},
      );
    }
    throw error;
  } finally {
    await browser.close();
  }
}

await runTest('page-test', main);
