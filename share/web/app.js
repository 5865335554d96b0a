// The build progress page of bscd-gateway: follows one project's events over
// Server-Sent Events and shows them. Plain script, no framework, no build
// step: the gateway serves it under `default-src 'self'`, so everything here
// is DOM calls (textContent, never innerHTML with data) and no inline code.
'use strict';

(() => {
  const SUCCESS_CODE = 1000;
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 15000;

  const $ = (id) => document.getElementById(id);

  const ui = {
    project: $('project'),
    connection: $('connection'),
    connectionText: $('connection-text'),
    banner: $('banner'),
    bannerTitle: $('banner-title'),
    bannerDetail: $('banner-detail'),
    currentLabel: $('current-label'),
    currentDescription: $('current-description'),
    currentName: $('current-name'),
    elapsed: $('elapsed'),
    progress: $('progress'),
    progressFill: $('progress-fill'),
    percent: $('percent'),
    stageCount: $('stage-count'),
    stagesEmpty: $('stages-empty'),
    stages: $('stages'),
    working: $('working'),
    workingTime: $('working-time'),
    footerNote: $('footer-note'),
  };

  const CONNECTION_TEXT = {
    connecting: 'connecting…',
    live: 'live',
    reconnecting: 'reconnecting…',
    finished: 'finished',
    denied: 'access denied',
    invalid: 'invalid project',
  };

  const state = {
    project: projectFromPath(location.pathname),
    token: new URLSearchParams(location.search).get('token'),
    ids: new Set(),
    events: [], // every event accepted, in order (final included)
    final: null,
    source: null,
    retryDelay: RETRY_MIN_MS,
    retryTimer: null,
    ticker: null,
    // How far the viewer's clock runs behind the server's (ms, >= 0): live
    // events carry the server's time, and a slow clock would otherwise show
    // a negative or too short elapsed time.
    clockSkew: 0,
  };

  // --- formatting -----------------------------------------------------------

  // Whole seconds, for a clock that ticks: "42 s", "1m 05s", "2h 03m 09s".
  function formatClock(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = total % 60;
    const pad = (n) => String(n).padStart(2, '0');
    if (hours > 0) return `${hours}h ${pad(minutes)}m ${pad(seconds)}s`;
    if (minutes > 0) return `${minutes}m ${pad(seconds)}s`;
    return `${seconds} s`;
  }

  // A stage's duration: tenths below a minute ("4.2 s"), a clock above.
  function formatDuration(ms) {
    const clamped = Math.max(0, ms);
    if (clamped < 100) return '< 0.1 s';
    if (clamped < 60000) return `${(clamped / 1000).toFixed(1)} s`;
    return formatClock(clamped);
  }

  // Descriptions are written lower case for sentences ("locale set up").
  function capitalize(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // ISO 8601 duration for <time datetime>, so assistive tools read a value.
  function isoDuration(ms) {
    return `PT${(Math.max(0, ms) / 1000).toFixed(1)}S`;
  }

  // --- where things are -----------------------------------------------------

  // The page is /…/projects/{project}: its last path segment, decoded.
  function projectFromPath(pathname) {
    const segments = pathname.split('/').filter((s) => s !== '');
    const last = segments.length > 0 ? segments[segments.length - 1] : '';
    try {
      return decodeURIComponent(last);
    } catch {
      return last;
    }
  }

  // API URLs are relative to the page, so the page works behind a path prefix.
  function apiUrl(suffix, params = {}) {
    const url = new URL(
      `../api/v1/projects/${encodeURIComponent(state.project)}${suffix}`,
      location.href,
    );
    if (state.token) url.searchParams.set('token', state.token);
    for (const [key, value] of Object.entries(params)) {
      url.searchParams.set(key, value);
    }
    return url.toString();
  }

  // --- events ---------------------------------------------------------------

  // The event JSON of DESIGN.md section 5, or null when it is not one.
  function parseEvent(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return null;
    }
    const valid =
      event !== null &&
      typeof event === 'object' &&
      typeof event.id === 'string' &&
      Number.isInteger(event.code) &&
      typeof event.ts === 'string' &&
      !Number.isNaN(Date.parse(event.ts));
    return valid ? event : null;
  }

  function onStatus(message) {
    const event = parseEvent(message.data);
    if (event === null) {
      console.warn('bscd: ignoring a malformed event', message.data);
      return;
    }
    // The gateway neither repeats nor reorders, but a resumed stream must
    // never show a stage twice, whatever happened in between.
    if (state.ids.has(event.id) || state.final !== null) return;
    state.ids.add(event.id);
    noteClockSkew(event);
    const previous = state.events[state.events.length - 1];
    state.events.push(event);
    state.retryDelay = RETRY_MIN_MS;

    if (!event.final) appendStage(event, previous);
    showCurrent(event);
    showProgress(event.progress);
    if (event.final) {
      finish(event);
    } else {
      startTicking();
    }
    tick();
  }

  function noteClockSkew(event) {
    const ahead = Date.parse(event.ts) - Date.now();
    if (ahead > state.clockSkew) state.clockSkew = ahead;
  }

  function serverNow() {
    return Date.now() + state.clockSkew;
  }

  // --- rendering ------------------------------------------------------------

  // What to call an event: its description, else its name (a catalog given
  // with --codes may have no descriptions).
  function titleOf(event) {
    return event.description || event.name || String(event.code);
  }

  function element(tag, className, text = '') {
    const node = document.createElement(tag);
    node.className = className;
    node.textContent = text;
    return node;
  }

  // How long the stage took: the time since the previous event.
  function durationElement(event, previous) {
    const duration = element('time', 'stage-duration');
    if (previous !== undefined) {
      const ms = Date.parse(event.ts) - Date.parse(previous.ts);
      duration.dateTime = isoDuration(ms);
      duration.textContent = formatDuration(ms);
      duration.title = 'Time since the previous stage';
    }
    return duration;
  }

  function appendStage(event, previous) {
    const item = element('li', 'stage');
    item.dataset.code = String(event.code);
    item.dataset.id = event.id;
    const check = element('span', 'check');
    check.setAttribute('aria-hidden', 'true');
    const text = element('div', 'stage-text');
    text.append(
      element('span', 'stage-description', titleOf(event)),
      element('code', 'code-name', event.name || String(event.code)),
    );
    item.append(check, text, durationElement(event, previous));
    ui.stages.append(item);
    ui.stagesEmpty.hidden = true;
    ui.stageCount.textContent = `(${ui.stages.children.length})`;
  }

  function showCurrent(event) {
    ui.currentLabel.textContent = event.final ? 'Outcome' : 'Latest stage';
    ui.currentDescription.textContent = titleOf(event);
    ui.currentName.textContent = event.name || '';
  }

  function showProgress(value) {
    const percent = Math.min(100, Math.max(0, Math.round(Number(value) || 0)));
    ui.progress.setAttribute('aria-valuenow', String(percent));
    ui.progressFill.style.width = `${percent}%`;
    ui.percent.textContent = `${percent}%`;
    if (state.final === null) document.title = `${percent}% · ${state.project} · build`;
  }

  function successDetail(stages, took) {
    const noun = stages.length === 1 ? 'stage' : 'stages';
    return `${stages.length} ${noun} in ${took}.`;
  }

  // Where a failed build stopped: after its last stage, if it had one.
  function failureDetail(event, stages, took) {
    const last = stages[stages.length - 1];
    if (last === undefined) {
      return `It stopped before its first stage finished (${event.name || event.code}).`;
    }
    return `It stopped after “${capitalize(titleOf(last))}” (${last.name}), ${took} into the build.`;
  }

  function showBanner(event) {
    const success = event.code === SUCCESS_CODE;
    const stages = state.events.filter((e) => !e.final);
    const took = formatClock(Date.parse(event.ts) - Date.parse(state.events[0].ts));
    ui.banner.dataset.outcome = success ? 'success' : 'failure';
    ui.bannerTitle.textContent = success ? 'Build succeeded' : 'Build failed';
    ui.bannerDetail.textContent = success
      ? successDetail(stages, took)
      : failureDetail(event, stages, took);
    if (!success) ui.stages.lastElementChild?.classList.add('stopped-here');
    ui.banner.hidden = false;
    ui.footerNote.textContent = 'This build is over: the page will not change any more.';
    document.title = `${success ? 'Succeeded' : 'Failed'} · ${state.project} · build`;
  }

  // Elapsed time since the first event, and time since the latest stage;
  // both freeze at the final event.
  function tick() {
    const first = state.events[0];
    if (first === undefined) return;
    const last = state.events[state.events.length - 1];
    const end = state.final !== null ? Date.parse(state.final.ts) : serverNow();
    const ms = end - Date.parse(first.ts);
    ui.elapsed.textContent = formatClock(ms);
    ui.elapsed.dateTime = isoDuration(Math.floor(Math.max(0, ms) / 1000) * 1000);
    ui.working.hidden = state.final !== null;
    ui.workingTime.textContent = formatClock(end - Date.parse(last.ts));
  }

  function startTicking() {
    if (state.ticker === null) state.ticker = setInterval(tick, 1000);
  }

  function stopTicking() {
    clearInterval(state.ticker);
    state.ticker = null;
  }

  function setConnection(key) {
    ui.connection.dataset.state = key;
    ui.connectionText.textContent = CONNECTION_TEXT[key];
  }

  // --- the stream -----------------------------------------------------------

  function finish(event) {
    state.final = event;
    stopTicking();
    clearTimeout(state.retryTimer);
    // The gateway ends the stream too; closing first keeps EventSource from
    // reconnecting in between.
    if (state.source !== null) state.source.close();
    state.source = null;
    showBanner(event);
    setConnection('finished');
  }

  function connect() {
    state.retryTimer = null;
    const last = state.events[state.events.length - 1];
    // A new EventSource has no Last-Event-ID: ?after= resumes it instead.
    const url = apiUrl('/events', last === undefined ? {} : { after: last.id });
    const source = new EventSource(url);
    state.source = source;
    source.addEventListener('status', onStatus);
    source.addEventListener('open', () => {
      state.retryDelay = RETRY_MIN_MS;
      setConnection('live');
    });
    source.addEventListener('error', () => {
      if (state.final !== null || state.source !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // EventSource gives up on an HTTP error or a wrong content type.
        source.close();
        state.source = null;
        retryLater();
      } else {
        setConnection('reconnecting'); // it retries by itself, with Last-Event-ID
      }
    });
  }

  // Reconnects with exponential backoff, unless the gateway says that
  // retrying cannot help (a wrong token, an invalid project name).
  async function retryLater() {
    setConnection('reconnecting');
    const verdict = await probe();
    if (verdict !== null) {
      setConnection(verdict);
      ui.currentDescription.textContent =
        verdict === 'denied'
          ? 'This link does not give access to this build. Ask for a new link.'
          : 'This is not a valid project name.';
      return;
    }
    const delay = state.retryDelay;
    state.retryDelay = Math.min(RETRY_MAX_MS, delay * 2);
    state.retryTimer = setTimeout(connect, delay);
  }

  // HEAD on this page (same token rules as the stream, and no 404 for a
  // build that has not started): 'denied' (403), 'invalid' (400), or null
  // when the stream is worth another try (any other answer, or no answer).
  async function probe() {
    try {
      const response = await fetch(location.href, { method: 'HEAD', cache: 'no-store' });
      if (response.status === 403) return 'denied';
      if (response.status === 400) return 'invalid';
    } catch {
      // Unreachable: retry later.
    }
    return null;
  }

  // Back online: do not sit out the rest of a long backoff.
  function retryNow() {
    if (state.retryTimer === null) return;
    clearTimeout(state.retryTimer);
    connect();
  }

  function start() {
    ui.project.textContent = state.project || '(no project)';
    document.title = `${state.project} · build`;
    window.addEventListener('online', retryNow);
    if (typeof EventSource !== 'function') {
      ui.currentDescription.textContent = 'This browser cannot follow the build live.';
      return;
    }
    connect();
  }

  start();
})();
