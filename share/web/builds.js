// The operator's list of builds (GET /builds): every build of the last days,
// newest first, with its stage, progress and time left. It asks the gateway
// for the list every few seconds (the gateway reads Redis once for all its
// viewers, and follows running builds live), and counts the time left down
// in between.
'use strict';

const REFRESH_MS = 2000;

// The list's URL: the page's own token (?token=) goes along.
function listUrl() {
  const token = new URLSearchParams(location.search).get('token');
  return `api/v1/builds${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

function formatDuration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// When a build started, in the viewer's own time zone (only shown, never
// compared with the viewer's clock).
function formatStart(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return date.toDateString() === new Date().toDateString()
    ? time
    : `${date.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

// The time left of a build told `sinceMs` ago: the stage's share counts
// down with the clock (counting_ms), the rest waits for the next stage.
function timeLeftText(build, sinceMs) {
  const estimate = build.estimate;
  if (!estimate) return '';
  if (estimate.basis === 'learning') return 'first build of this kind';
  if (!estimate.left) return '';
  const left = estimate.left.ms - Math.min(estimate.left.counting_ms, sinceMs);
  return left < 1000 ? 'any moment now' : `about ${formatDuration(left)}`;
}

const OUTCOMES = {
  running: 'running',
  waiting: 'waiting for the first stage',
  succeeded: 'succeeded',
  failed: 'failed',
  reading: 'reading…',
  expired: 'history expired',
};

// A cell of the table: its label (shown beside the value on a phone) and
// its content, in one box so that a phone's card lays it out as one value.
function cell(label, ...children) {
  const td = document.createElement('td');
  td.dataset.label = label;
  const value = document.createElement('div');
  value.append(...children);
  td.append(value);
  return td;
}

function span(className, text) {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

function buildRow(build, sinceMs) {
  const tr = document.createElement('tr');
  tr.dataset.project = build.project;
  tr.dataset.state = build.state;

  const link = document.createElement('a');
  link.href = build.page;
  link.textContent = build.project;

  const stage = build.description ? [build.description, span('stage-name', `${build.code} ${build.name}`)] : [];

  const progress = [];
  if (typeof build.progress === 'number') {
    const bar = span('bar', '');
    const fill = document.createElement('span');
    fill.style.width = `${build.progress}%`;
    bar.append(fill);
    progress.push(`${build.progress} %`, bar);
  }

  const left = [];
  if (build.state === 'running') {
    left.push(span('left', timeLeftText(build, sinceMs)));
    const pace = build.estimate?.pace;
    if (pace === 'slower') left.push(span('pace', 'slower than usual'));
    if (pace === 'stalled') left.push(span('pace', 'probably stalled'));
  } else if (build.took_ms !== undefined) {
    left.push(`took ${formatDuration(build.took_ms)}`);
  }

  tr.append(
    cell('Project', link),
    cell('Profile', build.profile ?? '—'),
    cell('Stage', ...stage),
    cell('Progress', ...progress),
    cell('Time left', ...left),
    cell('Started', formatStart(build.build_started)),
    cell('Outcome', span('outcome', OUTCOMES[build.state] ?? build.state)),
  );
  return tr;
}

let latest = null; // { list, at }: the last list and when it came (performance.now())

function render() {
  if (!latest) return;
  const sinceMs = performance.now() - latest.at;
  const { builds, running } = latest.list;
  document.querySelector('#builds tbody').replaceChildren(...builds.map((b) => buildRow(b, sinceMs)));
  document.getElementById('builds').hidden = builds.length === 0;
  document.getElementById('empty').hidden = builds.length !== 0;
  document.getElementById('summary').textContent = `${running} running, ${builds.length} listed`;
}

function showProblem(text) {
  const problem = document.getElementById('problem');
  problem.textContent = text;
  problem.hidden = !text;
}

async function refresh() {
  try {
    const response = await fetch(listUrl(), { cache: 'no-store' });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      showProblem(`The list cannot be shown: ${body.error ?? response.statusText} (HTTP ${response.status}).`);
    } else {
      latest = { list: await response.json(), at: performance.now() };
      showProblem('');
      render();
    }
  } catch (error) {
    showProblem(`The gateway cannot be reached (${error.message}); trying again.`);
  }
  setTimeout(refresh, REFRESH_MS);
}

refresh();
setInterval(render, 1000);
