// The build progress page of bscd-gateway: follows one project's events over
// Server-Sent Events and shows them, with the gateway's estimate of the time
// left (docs/gateway.md, "Estimates"). Plain script, no framework, no build
// step: the gateway serves it under `default-src 'self'`, so everything here
// is DOM calls (textContent, never innerHTML with data) and no inline code.
'use strict';

(() => {
  const SUCCESS_CODE = 1000;
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 15000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // The chart: each stage's row (px), and the share of the width its longest
  // bar takes (%); the rest is room for the value written beside each bar.
  const CHART_ROW_PX = 58;
  const CHART_SPAN = 64;
  const PACE_RANK = { unknown: 0, usual: 1, slower: 2, stalled: 3 };

  const $ = (id) => document.getElementById(id);

  const ui = {
    project: $('project'),
    connection: $('connection'),
    connectionText: $('connection-text'),
    banner: $('banner'),
    bannerTitle: $('banner-title'),
    bannerDetail: $('banner-detail'),
    current: $('current'),
    currentLabel: $('current-label'),
    currentDescription: $('current-description'),
    currentName: $('current-name'),
    elapsed: $('elapsed'),
    progress: $('progress'),
    progressFill: $('progress-fill'),
    percent: $('percent'),
    estimate: $('estimate'),
    estimateLeft: $('estimate-left'),
    estimateDone: $('estimate-done'),
    estimateRange: $('estimate-range'),
    estimateBasis: $('estimate-basis'),
    pace: $('pace'),
    paceTitle: $('pace-title'),
    paceDetail: $('pace-detail'),
    stageCount: $('stage-count'),
    stagesEmpty: $('stages-empty'),
    gap: $('gap'),
    stages: $('stages'),
    working: $('working'),
    workingWhat: $('working-what'),
    workingUsual: $('working-usual'),
    workingTime: $('working-time'),
    upcomingBox: $('upcoming-box'),
    upcomingLabel: $('upcoming-label'),
    upcoming: $('upcoming'),
    chartCard: $('chart-card'),
    chartUsualLabel: $('chart-usual-label'),
    chart: $('chart'),
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
    // The gateway's latest estimate message, and when it came by this page's
    // own clock (performance.now()): only the time since then is added to
    // the durations it tells, never compared with the server's timestamps.
    estimate: null,
    estimateAt: 0,
    // A code came after the latest estimate: its plan's current stage (and
    // that stage's pace) is behind the page until the next one, which the
    // gateway sends right after the code.
    planBehind: false,
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

  // A time left, rounded as people say it: "8 s", "about 45 s", "3 min",
  // "1 h 20 min" (the caller says "about").
  function formatRough(ms) {
    const seconds = Math.max(1, Math.round(ms / 1000));
    if (seconds < 10) return `${seconds} s`;
    const fives = Math.round(seconds / 5) * 5;
    if (fives < 60) return `${fives} s`;
    const minutes = Math.max(1, Math.round(seconds / 60));
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  }

  // A moment on the viewer's own clock, as "14:32" in the viewer's locale.
  function formatClockTime(date) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
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

  // The event JSON (docs/architecture.md, "The event JSON"), or null when it is not one.
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
    // Done now: no longer to come, nor worked towards (the gateway's new
    // plan follows at once).
    ui.upcoming.querySelector(`li[data-code="${event.code}"]`)?.remove();
    state.planBehind = true;
    showWorking();
    showCurrent(event);
    showProgress(event.progress);
    if (event.final) {
      finish(event);
    } else {
      startTicking();
    }
    tick();
  }

  // Codes the server no longer kept when it read the build's history
  // (docs/gateway.md, the gap event): the list may miss stages there.
  function onGap(message) {
    let gap;
    try {
      gap = JSON.parse(message.data);
    } catch {
      gap = null;
    }
    if (gap === null || typeof gap !== 'object' || gap.type !== 'gap') {
      console.warn('bscd: ignoring a malformed gap', message.data);
      return;
    }
    ui.gap.textContent =
      'Some codes of this build were no longer kept by the server when it read them: the list may miss stages.';
    ui.gap.hidden = false;
  }

  function noteClockSkew(event) {
    const ahead = Date.parse(event.ts) - Date.now();
    if (ahead > state.clockSkew) state.clockSkew = ahead;
  }

  function serverNow() {
    return Date.now() + state.clockSkew;
  }

  // --- the estimate ---------------------------------------------------------

  // The gateway's estimate message (docs/gateway.md, "Estimates"), or null
  // when it is not one.
  function parseEstimate(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return null;
    }
    const valid =
      message !== null &&
      typeof message === 'object' &&
      message.type === 'estimate' &&
      Array.isArray(message.plan) &&
      message.estimate !== null &&
      typeof message.estimate === 'object';
    return valid ? message : null;
  }

  function onEstimate(message) {
    const estimate = parseEstimate(message.data);
    if (estimate === null) {
      console.warn('bscd: ignoring a malformed estimate', message.data);
      return;
    }
    state.estimate = estimate;
    state.estimateAt = performance.now();
    state.planBehind = false;
    showPlan();
    if (estimate.estimate.basis === 'finished') {
      showChart();
      // Sent right after the final code: nothing more will come.
      if (state.final !== null) closeStream();
    } else if (state.final === null) {
      startTicking(); // the time left counts down between messages
    }
    tick();
  }

  // Milliseconds since the latest estimate came, by this page's clock.
  function sinceTold() {
    return Math.max(0, performance.now() - state.estimateAt);
  }

  // A time left as it stands now: its counting part passes with the clock.
  function leftNow(left, since) {
    return Math.max(0, left.ms - Math.min(left.counting_ms, since));
  }

  function isTimeLeft(left) {
    return (
      left !== null &&
      typeof left === 'object' &&
      Number.isFinite(left.ms) &&
      Number.isFinite(left.counting_ms)
    );
  }

  // The plan's current stage; none while the plan is behind the page.
  function currentStage() {
    if (state.planBehind) return undefined;
    return state.estimate?.plan.find((stage) => stage.state === 'current');
  }

  // How long the current stage has run: the gateway's figure, plus the time
  // since it told it.
  function stageElapsed() {
    return (Number(state.estimate.estimate.stage_elapsed_ms) || 0) + sinceTold();
  }

  // The pace now: the gateway sends a new estimate when the current stage
  // crosses a threshold, but the thresholds come along, so the page switches
  // on time by itself too (and never back: only a new message does that).
  function paceNow(estimate) {
    const told = estimate.pace in PACE_RANK ? estimate.pace : 'unknown';
    const elapsed = stageElapsed();
    const passed = (threshold) => Number.isFinite(threshold) && elapsed > threshold;
    if (passed(estimate.stalled_after_ms)) return 'stalled';
    if (passed(estimate.slow_after_ms) && PACE_RANK[told] < PACE_RANK.slower) return 'slower';
    return told;
  }

  // What to call a planned stage. The success code's "stage" is the work
  // between the last stage and the end, not the outcome: the banner says that.
  function planTitle(stage) {
    if (stage.code === SUCCESS_CODE) return 'finishing up';
    return stage.description || stage.name || String(stage.code);
  }

  function usualText(stage) {
    return Number.isFinite(stage.usual_ms) ? `usually ${formatDuration(stage.usual_ms)}` : '';
  }

  // Where the estimate comes from. Without a profile there is nothing to
  // compare with, and nothing is said.
  function basisText(message) {
    const { basis, builds } = message.estimate;
    if (typeof message.profile !== 'string') return '';
    const kind = `of this kind (${message.profile})`;
    if (basis === 'learning') {
      return builds > 0
        ? `Too few earlier builds ${kind} to tell the time left yet.`
        : `First build ${kind}: no time estimate yet; the next ones will have one.`;
    }
    if (basis === 'learnt') {
      const noun = builds === 1 ? 'build' : 'builds';
      return `Learnt from ${builds} earlier successful ${noun} ${kind}.`;
    }
    return '';
  }

  // "About 1 min left, done around 14:32", and the range. Past the usual
  // pace the time left is only a lower bound, and a stalled build has no
  // end time to promise.
  function showTimeLeft(estimate, pace) {
    const known = estimate.basis === 'learnt' && isTimeLeft(estimate.left);
    ui.estimateLeft.textContent = '';
    ui.estimateDone.textContent = '';
    ui.estimateRange.textContent = '';
    if (!known) return;
    const since = sinceTold();
    const left = leftNow(estimate.left, since);
    const late = PACE_RANK[pace] >= PACE_RANK.slower;
    if (left < 1000) {
      ui.estimateLeft.textContent = late ? 'Taking longer than usual' : 'Almost done';
      return;
    }
    ui.estimateLeft.textContent = `${late ? 'At least' : 'About'} ${formatRough(left)} left`;
    const done = formatClockTime(new Date(Date.now() + left));
    if (pace !== 'stalled') {
      ui.estimateDone.textContent = late ? `, done after ${done}` : `, done around ${done}`;
    }
    if (!late && isTimeLeft(estimate.left_low) && isTimeLeft(estimate.left_high)) {
      const low = formatRough(leftNow(estimate.left_low, since));
      const high = formatRough(leftNow(estimate.left_high, since));
      if (low !== high) ui.estimateRange.textContent = `Likely between ${low} and ${high}.`;
    }
  }

  // The warning, in words (its colour only repeats them).
  function showPace(pace) {
    const late = pace === 'slower' || pace === 'stalled';
    ui.pace.hidden = !late;
    if (!late) {
      delete ui.pace.dataset.pace;
      return;
    }
    const current = currentStage();
    const what = current === undefined ? 'This stage' : `“${capitalize(planTitle(current))}”`;
    const ran = formatClock(stageElapsed());
    ui.pace.dataset.pace = pace;
    if (pace === 'stalled') {
      ui.paceTitle.textContent = 'Probably stalled.';
      ui.paceDetail.textContent = `${what} has run for ${ran}, over twice its longest in earlier builds.`;
    } else {
      const usual = Number.isFinite(current?.usual_ms)
        ? `; it usually takes ${formatDuration(current.usual_ms)}`
        : '';
      ui.paceTitle.textContent = 'Slower than usual.';
      ui.paceDetail.textContent = `${what} has run for ${ran}${usual}.`;
    }
  }

  function showEstimate() {
    const message = state.estimate;
    if (message === null || state.final !== null || message.estimate.basis === 'finished') {
      ui.estimate.hidden = true;
      ui.pace.hidden = true;
      return;
    }
    // A stage that has just begun: the pace of the one before is not its.
    const pace = state.planBehind ? 'unknown' : paceNow(message.estimate);
    showTimeLeft(message.estimate, pace);
    ui.estimateBasis.textContent = basisText(message);
    showPace(pace);
    ui.estimate.hidden = ui.estimateLeft.textContent === '' && ui.estimateBasis.textContent === '';
    if (ui.estimateLeft.textContent !== '') {
      document.title = `${ui.percent.textContent} · ${ui.estimateLeft.textContent.toLowerCase()} · ${state.project} · build`;
    }
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

  // A stage still to come: greyed, with its usual time.
  function upcomingElement(stage) {
    const item = element('li', 'stage upcoming-stage');
    item.dataset.code = String(stage.code);
    const mark = element('span', 'pending');
    mark.setAttribute('aria-hidden', 'true');
    const text = element('div', 'stage-text');
    text.append(
      element('span', 'stage-description', planTitle(stage)),
      element('code', 'code-name', stage.name || String(stage.code)),
    );
    item.append(mark, text, element('span', 'stage-duration', usualText(stage)));
    return item;
  }

  // The first stage has no event before it: its time comes from the
  // gateway, counted from the build's start (when bscd kept it).
  function showFirstDuration(plan) {
    const first = plan[0];
    const duration = ui.stages.firstElementChild?.querySelector('.stage-duration');
    const known =
      first?.state === 'done' &&
      Number.isFinite(first.took_ms) &&
      duration?.textContent === '' &&
      ui.stages.firstElementChild.dataset.code === String(first.code);
    if (!known) return;
    duration.dateTime = isoDuration(first.took_ms);
    duration.textContent = formatDuration(first.took_ms);
    duration.title = 'Time since the build started';
  }

  // The plan's stage being worked on, and those still to come.
  function showPlan() {
    const message = state.estimate;
    if (message !== null) showFirstDuration(message.plan);
    const running = message !== null && state.final === null;
    const upcoming = running ? message.plan.filter((s) => s.state === 'upcoming') : [];
    ui.upcoming.replaceChildren(...upcoming.map(upcomingElement));
    ui.upcomingBox.hidden = upcoming.length === 0;
    // Learnt from nothing, the plan is the catalog's every stage: some
    // builds skip a few, so it is not promised.
    ui.upcomingLabel.textContent =
      running && message.estimate.builds > 0 ? 'Still to come' : 'May still come';
    showWorking();
  }

  // The stage being worked on, named while the plan is up to date.
  function showWorking() {
    const current = state.final === null ? currentStage() : undefined;
    ui.workingWhat.textContent =
      current === undefined
        ? 'Working on the next stage'
        : `Working towards “${capitalize(planTitle(current))}”`;
    ui.workingUsual.textContent = current === undefined ? '' : usualText(current);
  }

  function svgElement(tag, attributes = {}, text = '') {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) {
      node.setAttribute(name, String(value));
    }
    if (text !== '') node.textContent = text;
    return node;
  }

  // One bar and its value beside it. Widths are shares of the chart's width,
  // so the chart fits any screen while its text keeps the page's size.
  function chartBar(className, ms, longest, y, height, label) {
    const share = Number.isFinite(ms) ? Math.max(0.5, (CHART_SPAN * ms) / longest) : 0;
    const bar = svgElement('rect', {
      class: className,
      x: 0,
      y,
      width: `${share}%`,
      height,
      rx: 2,
    });
    const value = svgElement(
      'text',
      {
        class: 'chart-value',
        x: `${share + 1.5}%`,
        y: y + height / 2,
        'dominant-baseline': 'central',
      },
      label,
    );
    return [bar, value];
  }

  function chartRowSummary(stage) {
    const took = Number.isFinite(stage.took_ms) ? formatDuration(stage.took_ms) : 'not known';
    const usual = usualText(stage);
    return `${capitalize(planTitle(stage))}: ${took} this build${usual ? `, ${usual}` : ''}`;
  }

  // SVG text does not wrap: a label wider than the chart is cut, with an
  // ellipsis (its row's title has it whole).
  function fitChartLabels(svg) {
    const width = svg.getBoundingClientRect().width;
    for (const label of svg.querySelectorAll('.chart-label')) {
      let text = label.textContent;
      while (text.length > 1 && label.getComputedTextLength() > width) {
        text = text.slice(0, -1);
        label.textContent = `${text.trimEnd()}…`;
      }
    }
  }

  // At the end: this build's time in each stage against the usual. Each
  // row is the stage's name, then this build's bar and the usual one, each
  // with its time written beside it (text, not only colour).
  function showChart() {
    const message = state.estimate;
    const rows = (message?.plan ?? []).filter(
      (s) => Number.isFinite(s.took_ms) || Number.isFinite(s.usual_ms),
    );
    ui.chartCard.hidden = rows.length === 0;
    if (rows.length === 0) return;
    const withUsual = rows.some((s) => Number.isFinite(s.usual_ms));
    const longest = Math.max(1, ...rows.flatMap((s) => [s.took_ms ?? 0, s.usual_ms ?? 0]));
    const builds = message.estimate.builds;
    ui.chartUsualLabel.textContent = `usual (median of ${builds} earlier ${builds === 1 ? 'build' : 'builds'})`;
    ui.chartUsualLabel.parentElement.classList.toggle('without-usual', !withUsual);
    const svg = svgElement('svg', {
      class: 'chart-svg',
      width: '100%',
      height: rows.length * CHART_ROW_PX,
      role: 'img',
      'aria-label': `Time per stage: ${rows.map(chartRowSummary).join('; ')}.`,
    });
    rows.forEach((stage, i) => {
      const top = i * CHART_ROW_PX;
      const row = svgElement('g', { class: 'chart-row', 'data-code': stage.code });
      row.append(
        svgElement('title', {}, chartRowSummary(stage)),
        svgElement(
          'text',
          { class: 'chart-label', x: 0, y: top + 15 },
          capitalize(planTitle(stage)),
        ),
      );
      const took = Number.isFinite(stage.took_ms) ? formatDuration(stage.took_ms) : 'not known';
      row.append(...chartBar('bar-this', stage.took_ms, longest, top + 23, 12, took));
      if (withUsual) {
        const usual = Number.isFinite(stage.usual_ms)
          ? formatDuration(stage.usual_ms)
          : 'not known';
        row.append(
          ...chartBar('bar-usual', stage.usual_ms, longest, top + 39, 8, `usual ${usual}`),
        );
      }
      svg.append(row);
    });
    ui.chart.replaceChildren(svg);
    fitChartLabels(svg);
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
    // The banner says how it ended; an outcome line saying it again goes.
    ui.current.hidden =
      success || titleOf(event).toLowerCase() === ui.bannerTitle.textContent.toLowerCase();
    ui.banner.hidden = false;
    ui.footerNote.textContent = 'This build is over: the page will not change any more.';
    document.title = `${success ? 'Succeeded' : 'Failed'} · ${state.project} · build`;
  }

  function tick() {
    tickElapsed();
    showEstimate();
  }

  // Elapsed time since the first event, and time in the current stage; both
  // freeze at the final event.
  function tickElapsed() {
    const first = state.events[0];
    const last = state.events[state.events.length - 1];
    const current = state.final === null ? currentStage() : undefined;
    ui.working.hidden = state.final !== null || (first === undefined && current === undefined);
    if (current !== undefined) {
      // The gateway's figure: the same clock as the pace.
      ui.workingTime.textContent = formatClock(stageElapsed());
    }
    if (first === undefined) return;
    const end = state.final !== null ? Date.parse(state.final.ts) : serverNow();
    const ms = end - Date.parse(first.ts);
    ui.elapsed.textContent = formatClock(ms);
    ui.elapsed.dateTime = isoDuration(Math.floor(Math.max(0, ms) / 1000) * 1000);
    if (current === undefined) ui.workingTime.textContent = formatClock(end - Date.parse(last.ts));
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

  function closeStream() {
    if (state.source !== null) state.source.close();
    state.source = null;
  }

  function finish(event) {
    state.final = event;
    stopTicking();
    clearTimeout(state.retryTimer);
    // The gateway sends the finished build's estimate (the chart) right
    // after the final code, then ends the stream: the stream stays open for
    // it, and closes then, or when the stream ends (the error handler),
    // before EventSource would reconnect.
    if (state.estimate?.estimate.basis === 'finished') closeStream();
    showPlan();
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
    source.addEventListener('estimate', onEstimate);
    source.addEventListener('gap', onGap);
    source.addEventListener('open', () => {
      state.retryDelay = RETRY_MIN_MS;
      setConnection('live');
    });
    source.addEventListener('error', () => {
      if (state.source !== source) return;
      if (state.final !== null) {
        closeStream(); // the gateway ended the stream after the final code
        return;
      }
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
    // The chart's labels are cut to its width.
    window.addEventListener('resize', () => {
      if (!ui.chartCard.hidden) showChart();
    });
    if (typeof EventSource !== 'function') {
      ui.currentDescription.textContent = 'This browser cannot follow the build live.';
      return;
    }
    connect();
  }

  start();
})();
