// What the real-browser tests share: checks that fail with a message, the
// environment they read, a code sent the way a builder sends it, a page
// watched for script errors and requests elsewhere, Debian's Chromium
// launched with a fresh profile, and the exit status.

import { execFileSync } from 'node:child_process';
import process from 'node:process';

import { chromium } from 'playwright-core';

export class CheckFailed extends Error {}

export function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

export function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new CheckFailed(`environment variable ${name} is not set`);
  return value;
}

// Reports one code the way a builder does; bsc exits 0 once bscd accepted it.
export function sendCode(bsc, socket, code, timeoutMs) {
  try {
    execFileSync(bsc, ['-a', socket, String(code)], {
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    throw new CheckFailed(`bsc ${code} failed: ${error.message}${output ? `\n${output}` : ''}`);
  }
}

// The page's problems as they happen: script errors, and requests to any
// other host (the pages fetch nothing from elsewhere).
export function watchPage(page, origin) {
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
      problems.push(
        `failed request to another host: ${request.url()} (${request.failure()?.errorText})`,
      );
    }
  });
  return problems;
}

// launch() gives the browser a fresh temporary profile (user data dir) and
// removes it on close; nothing is shared with another run.
export function launchChromium(path) {
  return chromium.launch({
    executablePath: path,
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
}

// Runs a test's main(): exit status 0 and "PASS", or 1 and what failed.
export async function runTest(name, main) {
  try {
    await main();
    console.log(`[${name}] PASS`);
  } catch (error) {
    const message = error instanceof CheckFailed ? error.message : error.stack || String(error);
    console.error(`[${name}] FAIL: ${message}`);
    process.exitCode = 1;
  }
}
