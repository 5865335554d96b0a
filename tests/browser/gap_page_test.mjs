// Real-browser test of the build page and the gap event: history entries
// Redis trimmed before the gateway read them are not skipped in silence.
// The page shows the two codes it has, then this script adds three codes
// and trims the stream to the last one in one Redis call (before the
// gateway hears of them), and announces them. Checked: no gap note before;
// then the note, in words, and the stage list with the last code after the
// two, none twice; no console error.
//
// Inputs (environment):
//   PAGE_URL    the page, e.g. http://127.0.0.1:8080/projects/demo
//   REDIS_PORT  the test's redis-server on 127.0.0.1 (redis-cli talks to it)
//   CHROMIUM    optional, the browser binary (default /usr/bin/chromium)
//
// Exits 0 when every check passed, 1 with a message naming the failed check.

import { execFileSync } from 'node:child_process';
import process from 'node:process';

import { check, launchChromium, requireEnv, runTest, watchPage } from './harness.mjs';

const WAIT_MS = 10_000;

const config = {
  pageUrl: requireEnv('PAGE_URL'),
  redisPort: requireEnv('REDIS_PORT'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};

// Stage codes 21, 30, 32 with ids 2000-0.., then the stream cut to its last
// entry, then the channel's message: as a build outrunning the history's
// length while the gateway's link was down.
const TRIM_AND_ANNOUNCE = `
for i, code in ipairs({21, 30, 32}) do
  redis.call('XADD', KEYS[1], (1999 + i) .. '-0', 'code', code, 'ts', 1999 + i)
end
redis.call('XTRIM', KEYS[1], 'MAXLEN', 1)
redis.call('PUBLISH', ARGV[1], 'x')`;

function redis(...args) {
  execFileSync('redis-cli', ['-p', config.redisPort, ...args], { timeout: WAIT_MS });
}

function stageCodes(page) {
  return page.$$eval('#stages li', (items) => items.map((item) => item.dataset.code));
}

await runTest('gap page', async () => {
  const browser = await launchChromium(config.chromium);
  try {
    const page = await browser.newPage();
    const problems = watchPage(page, new URL(config.pageUrl).origin);
    await page.goto(config.pageUrl, { waitUntil: 'load', timeout: WAIT_MS });
    await page.waitForFunction(() => document.querySelectorAll('#stages li').length === 2, null, {
      timeout: WAIT_MS,
    });
    check(await page.$eval('#gap', (gap) => gap.hidden), 'a gap note before any gap');

    redis('EVAL', TRIM_AND_ANNOUNCE, '1', 'bscd-demo:events', 'bscd-demo');
    await page.waitForFunction(() => !document.querySelector('#gap').hidden, null, {
      timeout: WAIT_MS,
    });
    const note = await page.$eval('#gap', (gap) => gap.textContent);
    check(/no longer kept/.test(note) && /miss/.test(note), `the gap note says: ${note}`);
    await page.waitForFunction(() => document.querySelectorAll('#stages li').length === 3, null, {
      timeout: WAIT_MS,
    });
    const codes = await stageCodes(page);
    check(codes.join(',') === '10,20,32', `stages listed: ${codes.join(',')}`);
    check(problems.length === 0, `problems: ${problems.join('; ')}`);
  } finally {
    await browser.close();
  }
});
