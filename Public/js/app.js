/**
 * The Spool page: the form, one card per job, the connection indicator.
 *
 * All server traffic goes through SpoolClient (spool-client.js); this file only turns its events
 * into DOM updates and keeps jobs in localStorage (job-store.js) so a reload resumes them.
 *
 * Test hooks (query string): `?wsPort=N` points the WebSocket at port N of this same host (a port
 * that refuses connections exercises the SSE fallback). `window.spool` exposes the client.
 */
import { SpoolClient } from './spool-client.js';
import { JobStore } from './job-store.js';
import { formatBytes, formatDuration, formatElapsed, formatEta, formatPercent, formatSpeed, safeHref, shortUrl } from './format.js';

const QUALITIES = {
    mp3: {
        fallback: '192',
        options: [
            ['320', '320 kbps'],
            ['256', '256 kbps'],
            ['192', '192 kbps'],
            ['160', '160 kbps'],
            ['128', '128 kbps'],
            ['96', '96 kbps'],
            ['64', '64 kbps'],
        ],
    },
    mp4: {
        fallback: '1080',
        options: [
            ['best', 'Best'],
            ['2160', '2160p 4K'],
            ['1440', '1440p'],
            ['1080', '1080p HD'],
            ['720', '720p'],
            ['480', '480p'],
            ['360', '360p'],
            ['240', '240p'],
            ['144', '144p'],
        ],
    },
};
const PHASES = ['metadata', 'download', 'transcode', 'store'];
const PHASE_VERBS = { metadata: 'Reading details', download: 'Downloading', transcode: 'Converting', store: 'Saving' };
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const CONNECTION_TEXT = {
    idle: ['Starting…', 'Starting the connection'],
    connecting: ['Connecting…', 'Connecting to the server'],
    live: ['Live', 'Connected: progress is pushed over a WebSocket as it happens'],
    reconnecting: ['Reconnecting', 'The connection dropped; trying again. Your jobs keep running on the server.'],
    fallback: ['Fallback', 'WebSockets do not get through: updates arrive over Server-Sent Events and commands over HTTP. WebSockets are retried in the background.'],
    offline: ['Offline', 'This device is offline; Spool reconnects when the network is back.'],
    closed: ['Disconnected', 'Not connected'],
};

const $ = (selector, root = document) => root.querySelector(selector);

const els = {
    form: $('#convert-form'),
    url: $('#url'),
    urlError: $('#url-error'),
    formError: $('#form-error'),
    quality: $('#quality'),
    convert: $('#convert'),
    jobs: $('#jobs'),
    empty: $('#jobs-empty'),
    clearFinished: $('#clear-finished'),
    conn: $('#connection'),
    connLabel: $('#connection .conn-label'),
    connDetail: $('#connection .conn-detail'),
    announcer: $('#announcer'),
    template: $('#job-template'),
};

const store = new JobStore();
/** jobId → {data, el, refs, announced} */
const cards = new Map();
const prefs = { format: 'mp3', quality: {}, ...store.loadPrefs() };

// MARK: Client

function socketUrlFromQuery() {
    const port = new URLSearchParams(location.search).get('wsPort');
    if (!port || !/^\d{1,5}$/.test(port)) return undefined;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.hostname}:${port}/api/ws`;
}

const client = new SpoolClient({ url: socketUrlFromQuery() });
window.spool = { client, cards };

client.on('connection', renderConnection);
client.on('job', onJobMessage);
client.on('jobError', ({ jobId }) => {
    const card = cards.get(jobId);
    if (!card) return;
    card.data.gone = true;
    card.data.message = 'This job is no longer on the server.';
    renderCard(card);
    persist();
});

// MARK: Form

function fillQualities(format) {
    const spec = QUALITIES[format] || QUALITIES.mp3;
    const wanted = prefs.quality[format] || spec.fallback;
    els.quality.replaceChildren(
        ...spec.options.map(([value, label]) => {
            const option = document.createElement('option');
            option.value = value;
            option.textContent = label;
            option.selected = value === wanted;
            return option;
        }),
    );
}

function currentFormat() {
    return els.form.elements.format.value === 'mp4' ? 'mp4' : 'mp3';
}

/** Client-side checks for obvious mistakes; the server checks everything again. */
function checkUrl(raw) {
    let text = raw.trim();
    if (!text) return { error: 'Paste a link first.' };
    if (/\s/.test(text)) return { error: 'A link cannot contain spaces.' };
    if (text.startsWith('-')) return { error: 'A link cannot start with “-”.' };
    // "example.com/watch?v=1" → https://example.com/watch?v=1
    if (!/^[a-z][a-z0-9+.-]*:/i.test(text) && /^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?([/?#]|$)/i.test(text)) text = `https://${text}`;
    let url;
    try {
        url = new URL(text);
    } catch {
        return { error: 'That does not look like a link. It should start with http:// or https://.' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return { error: `Only http:// and https:// links can be converted, not ${url.protocol}// links.` };
    }
    if (!url.hostname) return { error: 'The link has no host name.' };
    return { url: text };
}

function showUrlError(message) {
    els.urlError.textContent = message;
    els.urlError.hidden = !message;
    els.url.setAttribute('aria-invalid', message ? 'true' : 'false');
}

function showFormError(message) {
    els.formError.textContent = message;
    els.formError.hidden = !message;
}

function showServerError(error) {
    const message = error?.message || 'Something went wrong.';
    const code = error?.code;
    if (code === 'INVALID_URL' || (code === 'MISSING_FIELD' && error.details?.field === 'url')) {
        showUrlError(message);
        els.url.focus();
    } else {
        showFormError(message);
    }
}

function setBusy(busy) {
    els.convert.disabled = busy;
    els.convert.setAttribute('aria-busy', busy ? 'true' : 'false');
    $('.btn-text', els.convert).textContent = busy ? 'Starting…' : 'Convert';
}

async function startConversion(options, { replaces } = {}) {
    const started = await client.convert(options);
    const card = cards.get(started.jobId) || createCard(started, { prepend: true });
    if (replaces && replaces !== started.jobId) removeCard(replaces, { focus: false });
    announce(`Started: ${cardTitle(card.data)}`);
    return card;
}

els.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showFormError('');
    const checked = checkUrl(els.url.value);
    if (checked.error) {
        showUrlError(checked.error);
        els.url.focus();
        return;
    }
    showUrlError('');
    els.url.value = checked.url;
    setBusy(true);
    try {
        await startConversion({ url: checked.url, format: currentFormat(), quality: els.quality.value });
        els.url.value = '';
        els.url.focus();
    } catch (error) {
        showServerError(error);
    } finally {
        setBusy(false);
    }
});

els.url.addEventListener('input', () => {
    if (!els.urlError.hidden) showUrlError('');
    if (!els.formError.hidden) showFormError('');
});

for (const radio of els.form.elements.format) {
    radio.addEventListener('change', () => {
        prefs.format = currentFormat();
        fillQualities(prefs.format);
        store.savePrefs(prefs);
    });
}

els.quality.addEventListener('change', () => {
    prefs.quality[currentFormat()] = els.quality.value;
    store.savePrefs(prefs);
});

els.clearFinished.addEventListener('click', () => {
    for (const [jobId, card] of [...cards]) {
        if (isFinished(card.data)) removeCard(jobId, { focus: false });
    }
    els.url.focus();
});

// MARK: Cards

function isFinished(data) {
    return TERMINAL.has(data.status) || data.gone === true;
}

function cardTitle(data) {
    return data.title || shortUrl(data.url, 80);
}

function qualityLabel(format, quality) {
    if (!quality) return '';
    if (format === 'mp3') return `${quality} kbps`;
    return quality === 'best' ? 'best' : `${quality}p`;
}

function createCard(payload, { prepend }) {
    const el = els.template.content.firstElementChild.cloneNode(true);
    const refs = {
        thumbImg: $('.thumb-img', el),
        title: $('.job-title', el),
        badge: $('.job-badge', el),
        source: $('.job-source', el),
        remove: $('.job-remove', el),
        phases: [...el.querySelectorAll('.phase')],
        progress: $('.progress', el),
        fill: $('.progress-fill', el),
        pct: $('.fig-pct', el),
        queue: $('.fig-queue', el),
        speed: $('.fig-speed', el),
        eta: $('.fig-eta', el),
        message: $('.job-message', el),
        error: $('.job-error', el),
        errorText: $('.job-error-text', el),
        errorCode: $('.job-error-code', el),
        download: $('.job-download', el),
        downloadLabel: $('.download-label', el),
        downloadFacts: $('.download-facts', el),
        retry: $('.job-retry', el),
        cancel: $('.job-cancel', el),
        doneFacts: $('.job-done-facts', el),
    };
    const data = {
        jobId: payload.jobId,
        url: payload.url,
        format: payload.format,
        quality: payload.quality,
        createdAt: payload.createdAt || new Date().toISOString(),
        status: payload.status || 'queued',
        step: payload.currentStep || payload.step || 'queued',
        progress: Number(payload.progress) || 0,
        lastSeq: payload.lastSeq || 0,
    };
    for (const key of ['title', 'thumbnailUrl', 'message', 'lastActiveStep', 'downloadUrl', 'filename', 'sizeBytes', 'durationSeconds', 'error', 'metrics', 'gone']) {
        if (payload[key] !== undefined) data[key] = payload[key];
    }
    const card = { data, el, refs, announcedStep: data.step, announcedQuarter: Math.floor(data.progress / 25) };
    el.dataset.jobId = data.jobId;
    const titleId = `job-title-${data.jobId}`;
    refs.title.id = titleId;
    $('.job-card', el).setAttribute('aria-labelledby', titleId);

    refs.cancel.addEventListener('click', () => cancelJob(card));
    refs.retry.addEventListener('click', () => retryJob(card));
    refs.remove.addEventListener('click', () => removeCard(card.data.jobId, { focus: true }));
    refs.thumbImg.addEventListener('error', () => {
        refs.thumbImg.hidden = true;
        el.classList.remove('has-thumb');
    });

    cards.set(data.jobId, card);
    if (prepend) els.jobs.prepend(el);
    else els.jobs.append(el);
    renderCard(card);
    renderList();
    persist();
    return card;
}

function removeCard(jobId, { focus }) {
    const card = cards.get(jobId);
    if (!card) return;
    let next = null;
    if (focus) {
        const sibling = card.el.nextElementSibling || card.el.previousElementSibling;
        next = sibling ? sibling.querySelector('.job-remove:not([hidden]), .job-download:not([hidden]), .job-cancel:not([hidden]), .job-retry:not([hidden])') : null;
    }
    client.unsubscribe(jobId);
    store.forget(jobId);
    cards.delete(jobId);
    card.el.remove();
    renderList();
    persist();
    if (focus) (next || els.url).focus();
}

async function cancelJob(card) {
    const button = card.refs.cancel;
    button.disabled = true;
    button.textContent = 'Cancelling…';
    try {
        await client.cancel(card.data.jobId);
    } catch (error) {
        if (error.code !== 'JOB_ALREADY_FINISHED') {
            button.disabled = false;
            button.textContent = 'Cancel';
            card.data.message = `Could not cancel: ${error.message}`;
            renderCard(card);
        }
    }
}

async function retryJob(card) {
    const { url, format, quality, jobId } = card.data;
    card.refs.retry.disabled = true;
    try {
        const fresh = await startConversion({ url, format, quality }, { replaces: jobId });
        fresh.refs.cancel.focus();
    } catch (error) {
        card.refs.retry.disabled = false;
        card.data.message = `Could not start again: ${error.message}`;
        renderCard(card);
    }
}

/** Applies one (already de-duplicated) job message from the client. */
function onJobMessage(payload, info) {
    let card = cards.get(payload.jobId);
    if (!card) {
        if (info.type !== 'conversion_started') return;
        card = createCard(payload, { prepend: true });
    }
    const d = card.data;
    const wasFinished = isFinished(d);
    d.status = payload.status || d.status;
    d.step = payload.currentStep || d.step;
    if (PHASES.includes(d.step)) d.lastActiveStep = d.step;
    // The bar never moves backwards, whatever arrives.
    d.progress = Math.max(d.progress || 0, Number(payload.progress) || 0);
    if (d.status === 'completed') d.progress = 100;
    if (payload.message) d.message = payload.message;
    d.queuePosition = payload.queuePosition;
    d.speed = payload.speedBytesPerSecond;
    d.eta = payload.etaSeconds;
    for (const key of ['title', 'thumbnailUrl', 'durationSeconds', 'url', 'format', 'quality', 'createdAt', 'downloadUrl', 'filename', 'metrics']) {
        if (payload[key] !== undefined && payload[key] !== null) d[key] = payload[key];
    }
    if (payload.metadata) {
        d.sizeBytes = payload.metadata.sizeBytes;
        if (payload.metadata.durationSeconds) d.durationSeconds = payload.metadata.durationSeconds;
        if (!d.title && payload.metadata.title) d.title = payload.metadata.title;
    }
    d.error = payload.error || (d.status === 'failed' ? d.error : undefined);
    d.gone = false;
    d.lastSeq = client.job(d.jobId)?.lastSeq ?? payload.seq ?? d.lastSeq;
    card.synced = true;
    renderCard(card);
    if (!wasFinished && isFinished(d)) renderList();
    announceChanges(card);
    persist();
}

function renderCard(card) {
    const { data: d, el, refs: r } = card;
    const status = d.gone ? 'gone' : d.status;
    el.dataset.status = status;
    el.dataset.step = d.step || '';
    el.dataset.format = d.format || '';
    el.classList.toggle('is-syncing', !card.synced);

    r.title.textContent = cardTitle(d);
    r.title.title = d.url || '';
    r.badge.textContent = [String(d.format || '').toUpperCase(), qualityLabel(d.format, d.quality)].filter(Boolean).join(' · ');
    r.source.textContent = d.title ? shortUrl(d.url, 48) : '';
    r.source.title = d.url || '';
    r.remove.setAttribute('aria-label', `Remove “${cardTitle(d)}” from the list`);
    r.remove.title = 'Remove from the list';

    const thumb = safeHref(d.thumbnailUrl);
    if (thumb && r.thumbImg.getAttribute('src') !== thumb) {
        r.thumbImg.src = thumb;
        r.thumbImg.hidden = false;
        el.classList.add('has-thumb');
    }

    // Phases: done ones checked, the current one marked.
    const activeIndex = PHASES.indexOf(d.lastActiveStep || d.step);
    r.phases.forEach((li, index) => {
        let state = 'pending';
        if (status === 'completed') state = 'done';
        else if (status === 'running') state = index < activeIndex ? 'done' : index === activeIndex ? 'current' : 'pending';
        else if (status === 'failed' || status === 'cancelled') state = index < activeIndex ? 'done' : index === activeIndex ? status : 'pending';
        li.dataset.state = state;
        if (state === 'current') li.setAttribute('aria-current', 'step');
        else li.removeAttribute('aria-current');
        li.querySelector('.phase-state').textContent = { done: ', done', current: ', in progress', pending: ', not started', failed: ', failed', cancelled: ', stopped' }[state];
    });

    const progress = Math.min(100, Math.max(0, d.progress || 0));
    r.fill.style.transform = `scaleX(${progress / 100})`;
    r.progress.setAttribute('aria-valuenow', String(Math.round(progress * 10) / 10));
    r.progress.setAttribute('aria-valuetext', `${formatPercent(progress)}${PHASE_VERBS[d.step] && status === 'running' ? `, ${PHASE_VERBS[d.step].toLowerCase()}` : ''}`);
    r.progress.setAttribute('aria-label', `Progress of ${cardTitle(d)}`);
    r.progress.classList.toggle('is-waiting', status === 'queued' || (status === 'running' && progress < 0.5));
    r.pct.textContent = formatPercent(progress);

    const queued = status === 'queued';
    r.queue.hidden = !(queued && d.queuePosition);
    r.queue.textContent = queued && d.queuePosition ? (d.queuePosition === 1 ? 'Next in queue' : `#${d.queuePosition} in queue`) : '';
    const live = status === 'running';
    r.speed.hidden = !(live && d.speed > 0);
    r.speed.textContent = live ? formatSpeed(d.speed) : '';
    r.eta.hidden = !(live && Number.isFinite(d.eta));
    r.eta.textContent = live && Number.isFinite(d.eta) ? formatEta(d.eta) : '';

    r.message.textContent = d.message || defaultMessage(status);

    const failed = status === 'failed';
    r.error.hidden = !failed;
    if (failed) {
        r.errorText.textContent = d.error?.message || d.message || 'The conversion failed.';
        r.errorCode.textContent = d.error?.code ? `Error code ${d.error.code}` : '';
    }

    const href = status === 'completed' ? safeHref(d.downloadUrl) : null;
    r.download.hidden = !href;
    if (href) {
        r.download.href = href;
        if (d.filename) r.download.setAttribute('download', d.filename);
        r.downloadLabel.textContent = `Download ${String(d.format || '').toUpperCase()}`;
        r.downloadFacts.textContent = [formatBytes(d.sizeBytes), formatDuration(d.durationSeconds)].filter(Boolean).join(' · ');
        r.download.setAttribute('aria-label', `Download ${d.filename || cardTitle(d)}${d.sizeBytes ? `, ${formatBytes(d.sizeBytes)}` : ''}${d.durationSeconds ? `, ${formatDuration(d.durationSeconds)} long` : ''}`);
    }
    r.doneFacts.textContent = status === 'completed' && d.metrics?.totalSeconds ? `Converted in ${formatElapsed(d.metrics.totalSeconds)}` : '';

    const active = status === 'queued' || status === 'running';
    r.cancel.hidden = !active;
    if (!active) {
        r.cancel.disabled = false;
        r.cancel.textContent = 'Cancel';
    }
    r.cancel.setAttribute('aria-label', `Cancel “${cardTitle(d)}”`);
    r.retry.hidden = !(failed || status === 'cancelled' || status === 'gone');
    r.retry.disabled = false;
    r.retry.textContent = failed ? 'Try again' : 'Start again';
    r.remove.hidden = !(TERMINAL.has(status) || status === 'gone');
}

function defaultMessage(status) {
    switch (status) {
        case 'queued': return 'Waiting in the queue';
        case 'running': return 'Working…';
        case 'completed': return 'Ready to download';
        case 'cancelled': return 'Cancelled';
        case 'failed': return 'Failed';
        case 'gone': return 'This job is no longer on the server.';
        default: return '';
    }
}

function renderList() {
    els.empty.hidden = cards.size > 0;
    els.clearFinished.hidden = ![...cards.values()].some((c) => isFinished(c.data));
    renderDocumentTitle();
}

function renderDocumentTitle() {
    const running = [...cards.values()].filter((c) => c.data.status === 'running');
    document.title = running.length ? `${Math.floor(running[0].data.progress)}% · Spool` : 'Spool';
}

// MARK: Announcements (one polite live region, throttled)

let lastAnnouncement = '';
function announce(text) {
    if (!text || text === lastAnnouncement) return;
    lastAnnouncement = text;
    els.announcer.textContent = text;
}

function announceChanges(card) {
    const d = card.data;
    const title = cardTitle(d);
    if (d.step !== card.announcedStep) {
        card.announcedStep = d.step;
        if (d.status === 'completed') announce(`${title} is ready to download.`);
        else if (d.status === 'failed') announce(`${title} failed: ${d.error?.message || d.message || ''}`);
        else if (d.status === 'cancelled') announce(`${title} was cancelled.`);
        else if (PHASE_VERBS[d.step]) announce(`${PHASE_VERBS[d.step]}: ${title}`);
    }
    const quarter = Math.floor((d.progress || 0) / 25);
    if (d.status === 'running' && quarter > card.announcedQuarter) {
        card.announcedQuarter = quarter;
        if (quarter < 4) announce(`${title}: ${quarter * 25} percent`);
    }
    renderDocumentTitle();
}

// MARK: Connection indicator

let countdownTimer = null;
function renderConnection(info) {
    const state = info.state;
    const [label, explanation] = CONNECTION_TEXT[state] || [state, ''];
    els.conn.dataset.state = state;
    els.connLabel.textContent = label;
    els.conn.title = explanation;
    clearInterval(countdownTimer);
    countdownTimer = null;
    const tick = () => {
        let detail = '';
        if (state === 'reconnecting') {
            const seconds = info.nextAttemptAt ? Math.ceil((info.nextAttemptAt - Date.now()) / 1000) : 0;
            detail = seconds > 0 ? `in ${seconds} s` : '…';
        } else if (state === 'fallback') {
            detail = 'SSE';
        }
        els.connDetail.textContent = detail;
    };
    tick();
    if (state === 'reconnecting' && info.nextAttemptAt && info.nextAttemptAt > Date.now()) countdownTimer = setInterval(tick, 250);
    for (const card of cards.values()) card.el.classList.toggle('is-stale', state === 'reconnecting' || state === 'offline');
}

// MARK: Persistence

function persist() {
    store.scheduleSave(() => [...els.jobs.children].map((li) => cards.get(li.dataset.jobId)?.data).filter(Boolean));
}

window.addEventListener('pagehide', () => store.saveNow());

// MARK: Start

/** Draws saved jobs this tab does not show yet (at load, and when another tab adds one). */
function restore(saved = store.load()) {
    for (const job of saved) {
        if (cards.has(job.jobId) || store.removed.has(job.jobId)) continue;
        adopt(job);
    }
}

/** Shows a saved job at once from what was saved, then follows it from its last seq. */
function adopt(saved) {
    const card = createCard(saved, { prepend: false });
    placeByDate(card);
    card.synced = TERMINAL.has(saved.status) || saved.gone === true;
    renderCard(card);
    client.subscribe(saved.jobId, { after: saved.lastSeq || 0 }).catch(() => {
        /* jobError updates the card */
    });
}

/** Keeps the list newest first when a card arrives out of order (from another tab). */
function placeByDate(card) {
    const created = String(card.data.createdAt || '');
    const later = [...els.jobs.children].find((li) => li !== card.el && String(cards.get(li.dataset.jobId)?.data.createdAt || '') < created);
    if (later) els.jobs.insertBefore(card.el, later);
}

store.onChange((jobs, removed) => {
    for (const jobId of [...cards.keys()]) if (removed.has(jobId)) removeCard(jobId, { focus: false });
    restore(jobs);
});

const startFormat = prefs.format === 'mp4' ? 'mp4' : 'mp3';
els.form.elements.format.value = startFormat;
fillQualities(startFormat);
restore();
renderList();
client.connect();
