/**
 * spool-client.js — a small, dependency-free client for Spool's push protocol.
 *
 * Works in any page (plain ES module, no build step) and in other runtimes when the transports
 * are passed in. One client keeps one WebSocket to `/api/ws`, reconnects by itself, resumes every
 * job it follows from the last event it saw, and falls back to Server-Sent Events plus plain HTTP
 * when WebSockets do not get through.
 *
 * @example
 *   import { SpoolClient } from '/js/spool-client.js';
 *   const client = new SpoolClient();                 // ws(s)://<this host>/api/ws
 *   client.on('connection', (c) => indicator(c.state));
 *   client.on('job', (payload, info) => render(payload, info));
 *   client.connect();
 *   const started = await client.convert({ url, format: 'mp3', quality: '192' });
 *   client.subscribe(savedJobId, { after: savedLastSeq });   // e.g. after a page reload
 *   await client.cancel(started.jobId);
 *
 * Constructor options (all optional)
 *   url               WebSocket URL. Default: derived from `baseUrl`, else from `location`.
 *   baseUrl           HTTP origin for the fallbacks, e.g. "http://127.0.0.1:8080". Default: location.origin.
 *   WebSocketImpl, EventSourceImpl, fetchImpl   transports to use (default: the global ones).
 *   backoff           { initialMs = 500, maxMs = 10000 } exponential backoff with full jitter:
 *                     the n-th retry waits random(0, min(maxMs, initialMs * 2^(n-1))).
 *   fallbackAfter     consecutive failed WebSocket attempts before switching to SSE (3). The switch
 *                     happens only if the HTTP side answers (`GET /healthz`); while the whole
 *                     server is down the client stays `reconnecting`.
 *   pingIntervalMs    application-level `ping` period while live (20000).
 *   pongTimeoutMs     a `pong` not back within this time means the socket is dead (10000).
 *   connectTimeoutMs  an attempt not open by then counts as failed (10000).
 *   requestTimeoutMs  how long convert()/cancel() wait for their reply (15000).
 *   maxEventSources   SSE streams open at once in fallback mode (4). Browsers allow about six
 *                     HTTP/1.1 connections per host; the rest are kept for commands. Further jobs
 *                     wait for a free stream (they keep their last state meanwhile).
 *   random            () => number in [0, 1) for the jitter (default Math.random).
 *
 * Methods
 *   connect()                          start (idempotent); returns the client.
 *   close()                            stop everything; state becomes `closed`.
 *   convert({url, format, quality})    Promise of the `conversion_started` payload; rejects with a
 *                                      SpoolError carrying the server's {code, message, retryable, details}.
 *                                      Uses the WebSocket when live, else `POST /api/conversions`.
 *   subscribe(jobId, {after})          follow a job; Promise of its first `job_state` snapshot
 *                                      (rejects with SpoolError JOB_NOT_FOUND for an unknown id).
 *   unsubscribe(jobId)                 stop following a job.
 *   cancel(jobId)                      Promise of {jobId, status}; WebSocket or `DELETE` when not live.
 *   job(jobId)                         {jobId, lastSeq, terminal, transport} of a followed job, or undefined.
 *   on(type, fn) / off(type, fn)       listeners; on() returns a function that removes the listener.
 *   debugDrop()                        close the live socket as if the network dropped it (tests).
 *
 * Events
 *   'connection'  fn(info) — info = {state, attempt, delayMs, nextAttemptAt, failures, transport}
 *                 state: 'connecting' | 'live' | 'reconnecting' | 'fallback' | 'offline' | 'closed'.
 *                 `reconnecting` carries the delay and the time of the next attempt (ms since epoch);
 *                 `fallback` means updates arrive over SSE while WebSocket attempts go on in the
 *                 background (nextAttemptAt tells when); the client returns to `live` when one works.
 *   'job'         fn(payload, {type, jobId, seq, snapshot, resync, transport}) — every job message
 *                 that was applied (the flat job payload of the protocol).
 *   'started'     fn(payload)   conversion_started
 *   'state'       fn(payload)   job_state snapshot (payload.resync === true when events were lost)
 *   'progress'    fn(payload)   progress_update
 *   'completed' | 'failed' | 'cancelled'   fn(payload)  the terminal events
 *   'jobError'    fn({jobId, error}) — the server does not know a followed job (it is dropped).
 *   'error'       fn(error)     an `error` frame that answered no request of this client.
 *   'message'     fn(frame, transport) — every raw frame received (debugging).
 *
 * Delivery rules kept by the client
 *   Events are de-duplicated per job by `seq`: an event whose seq is not above the last one seen is
 *   ignored. A `job_state` snapshot is always applied and counts as having seen its seq (the events
 *   replayed right after it that it already covers are skipped; a server whose seq went backwards,
 *   for instance after losing its disk state, is followed from the snapshot on). On every reconnect
 *   each followed, unfinished job is subscribed again with `after` = its last seq. Once a job has
 *   ended it is not subscribed again.
 */

const JOB_EVENT_NAMES = {
    conversion_started: 'started',
    job_state: 'state',
    progress_update: 'progress',
    conversion_completed: 'completed',
    conversion_failed: 'failed',
    conversion_cancelled: 'cancelled',
};
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** An error from the server (its `error` payload) or from the client itself (NETWORK, TIMEOUT, DISCONNECTED). */
export class SpoolError extends Error {
    constructor({ code = 'UNKNOWN', message = 'Something went wrong.', retryable = false, details } = {}) {
        super(message);
        this.name = 'SpoolError';
        this.code = code;
        this.retryable = retryable;
        if (details) this.details = details;
    }

    toJSON() {
        return { code: this.code, message: this.message, retryable: this.retryable, details: this.details };
    }
}

export class SpoolClient {
    constructor(options = {}) {
        const loc = typeof location !== 'undefined' ? location : null;
        this.baseUrl = (options.baseUrl || (loc ? loc.origin : '')).replace(/\/+$/, '');
        this.url = options.url || SpoolClient.defaultSocketUrl(this.baseUrl);
        this._WS = options.WebSocketImpl || globalThis.WebSocket;
        this._ES = options.EventSourceImpl || globalThis.EventSource;
        this._fetch = options.fetchImpl || (globalThis.fetch ? globalThis.fetch.bind(globalThis) : null);
        this.backoff = { initialMs: 500, maxMs: 10000, ...(options.backoff || {}) };
        this.fallbackAfter = options.fallbackAfter ?? 3;
        this.pingIntervalMs = options.pingIntervalMs ?? 20000;
        this.pongTimeoutMs = options.pongTimeoutMs ?? 10000;
        this.connectTimeoutMs = options.connectTimeoutMs ?? 10000;
        this.requestTimeoutMs = options.requestTimeoutMs ?? 15000;
        this.maxEventSources = options.maxEventSources ?? 4;
        this._random = options.random || Math.random;

        this.state = 'idle';
        this.connection = { state: 'idle' };
        this._listeners = new Map();
        this._jobs = new Map();
        this._pending = new Map();
        this._counter = 0;
        this._ws = null;
        this._failures = 0;
        this._retryTimer = null;
        this._pingTimer = null;
        this._nextAttemptAt = null;
        this._started = false;
        this._closed = false;
        this._probing = false;
        this._onOnline = () => this._online();
        this._onOffline = () => this._offline();
        this._onVisible = () => {
            if (typeof document !== 'undefined' && document.visibilityState === 'visible' && this._retryTimer && this.state === 'reconnecting') {
                this._openSocket();
            }
        };
    }

    /** ws(s)://host/api/ws for an http(s) origin. */
    static defaultSocketUrl(baseUrl) {
        if (!baseUrl) return '/api/ws';
        return baseUrl.replace(/^http/i, 'ws') + '/api/ws';
    }

    // MARK: Listeners

    on(type, fn) {
        if (!this._listeners.has(type)) this._listeners.set(type, new Set());
        this._listeners.get(type).add(fn);
        return () => this.off(type, fn);
    }

    off(type, fn) {
        this._listeners.get(type)?.delete(fn);
    }

    _emit(type, ...args) {
        for (const fn of [...(this._listeners.get(type) || [])]) {
            try {
                fn(...args);
            } catch (error) {
                console.error(`SpoolClient: a '${type}' listener threw`, error);
            }
        }
    }

    // MARK: Lifecycle

    connect() {
        if (this._started && !this._closed) return this;
        this._started = true;
        this._closed = false;
        if (typeof window !== 'undefined' && window.addEventListener) {
            window.addEventListener('online', this._onOnline);
            window.addEventListener('offline', this._onOffline);
        }
        if (typeof document !== 'undefined' && document.addEventListener) {
            document.addEventListener('visibilitychange', this._onVisible);
        }
        this._openSocket();
        return this;
    }

    close() {
        this._closed = true;
        this._started = false;
        clearTimeout(this._retryTimer);
        this._retryTimer = null;
        this._stopPing();
        const ws = this._ws;
        this._ws = null;
        if (ws) {
            try {
                ws.close(1000, 'client closed');
            } catch {
                /* already closed */
            }
        }
        for (const t of this._jobs.values()) this._closeSse(t);
        this._rejectPending(new SpoolError({ code: 'CLOSED', message: 'The client was closed.' }));
        if (typeof window !== 'undefined' && window.removeEventListener) {
            window.removeEventListener('online', this._onOnline);
            window.removeEventListener('offline', this._onOffline);
        }
        if (typeof document !== 'undefined' && document.removeEventListener) {
            document.removeEventListener('visibilitychange', this._onVisible);
        }
        this._setState('closed');
    }

    /** Closes the live socket as a network drop would (for tests and demos). */
    debugDrop() {
        if (this._ws) {
            try {
                this._ws.close(4000, 'debug drop');
            } catch {
                /* ignore */
            }
        }
    }

    get isLive() {
        return this.state === 'live' && this._ws && this._ws.readyState === 1;
    }

    // MARK: Commands

    /** Starts a conversion. Resolves with the conversion_started payload. */
    async convert({ url, format, quality } = {}) {
        const payload = { url, format };
        if (quality !== undefined && quality !== null && quality !== '') payload.quality = String(quality);
        if (this.isLive) {
            return this._request('start_conversion', payload);
        }
        // Not live: the HTTP side may still work (fallback, or between reconnect attempts).
        const started = await this._http('POST', '/api/conversions', payload);
        const t = this._track(started.jobId, 0);
        t.preferSse = true;
        this._applyJobFrame('conversion_started', started, 'http');
        this._ensureSubscribed(t);
        return started;
    }

    /** Follows a job. Resolves with its first job_state snapshot. */
    subscribe(jobId, { after } = {}) {
        let t = this._jobs.get(jobId);
        if (!t) t = this._track(jobId, Number.isInteger(after) && after > 0 ? after : 0);
        else if (Number.isInteger(after) && after > t.lastSeq) t.lastSeq = after;
        t.terminal = false; // re-check: the snapshot tells
        const promise = new Promise((resolve, reject) => t.waiters.push({ resolve, reject }));
        t.wsSubscribed = false;
        this._ensureSubscribed(t);
        return promise;
    }

    /** Stops following a job. */
    unsubscribe(jobId) {
        const t = this._jobs.get(jobId);
        if (!t) return Promise.resolve({ jobId, wasSubscribed: false });
        this._jobs.delete(jobId);
        this._closeSse(t);
        for (const w of t.waiters) w.reject(new SpoolError({ code: 'UNSUBSCRIBED', message: 'No longer following this job.' }));
        if (this.isLive && t.wsSubscribed && !t.terminal) {
            return this._request('unsubscribe_job', { jobId }).catch(() => ({ jobId, wasSubscribed: false }));
        }
        return Promise.resolve({ jobId, wasSubscribed: false });
    }

    /** Cancels a job. Resolves with {jobId, status}; conversion_cancelled follows for subscribers. */
    async cancel(jobId) {
        if (this.isLive) return this._request('cancel_job', { jobId });
        const snapshot = await this._http('DELETE', `/api/conversions/${encodeURIComponent(jobId)}`);
        return { jobId, status: snapshot.status };
    }

    /** What the client knows about a followed job. */
    job(jobId) {
        const t = this._jobs.get(jobId);
        if (!t) return undefined;
        return { jobId, lastSeq: t.lastSeq, terminal: t.terminal, transport: t.es ? 'sse' : t.wsSubscribed ? 'websocket' : null };
    }

    // MARK: WebSocket

    _openSocket() {
        clearTimeout(this._retryTimer);
        this._retryTimer = null;
        this._nextAttemptAt = null;
        if (this._closed || this._ws) return;
        if (this._isOffline()) {
            this._setState('offline');
            return;
        }
        if (!this._WS) {
            this._socketGone(null, false);
            return;
        }
        if (this.state === 'idle' || this.state === 'offline' || this.state === 'closed') this._setState('connecting', { attempt: this._failures + 1 });
        else if (this.state === 'reconnecting') this._setState('reconnecting', { attempt: this._failures + 1, connectingNow: true });
        let ws;
        try {
            ws = new this._WS(this.url);
        } catch {
            this._socketGone(null, false);
            return;
        }
        this._ws = ws;
        let opened = false;
        const timer = setTimeout(() => {
            if (!opened && this._ws === ws) {
                try {
                    ws.close();
                } catch {
                    /* ignore */
                }
                this._socketGone(ws, false);
            }
        }, this.connectTimeoutMs);
        ws.onopen = () => {
            opened = true;
            clearTimeout(timer);
            if (this._ws === ws) this._onOpen();
        };
        ws.onmessage = (event) => {
            if (this._ws === ws) this._onText(event.data, 'websocket');
        };
        ws.onerror = () => {
            /* a close event follows */
        };
        ws.onclose = () => {
            clearTimeout(timer);
            this._socketGone(ws, opened);
        };
    }

    _onOpen() {
        const wasFallback = this.state === 'fallback';
        this._failures = 0;
        this._setState('live');
        this._startPing();
        for (const t of this._jobs.values()) {
            if (wasFallback || t.es) this._closeSse(t);
            t.preferSse = false;
            t.wsSubscribed = false;
            if (!t.terminal || t.waiters.length) this._ensureSubscribed(t);
        }
    }

    /** The socket closed (or never opened). Schedules the next attempt; may switch to SSE. */
    _socketGone(ws, wasOpen) {
        if (ws && this._ws !== ws) return;
        this._ws = null;
        this._stopPing();
        this._rejectPending(new SpoolError({ code: 'DISCONNECTED', message: 'The connection to the server dropped; try again.', retryable: true }), 'websocket');
        for (const t of this._jobs.values()) t.wsSubscribed = false;
        if (this._closed) return;
        this._failures = wasOpen ? 1 : this._failures + 1;
        if (this._isOffline()) {
            this._setState('offline');
            return;
        }
        if (this.state !== 'fallback' && this._failures >= this.fallbackAfter) this._probeFallback();
        this._scheduleRetry();
    }

    _scheduleRetry() {
        clearTimeout(this._retryTimer);
        const exp = Math.max(0, this._failures - 1);
        const cap = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(exp, 20));
        const delayMs = Math.round(this._random() * cap);
        this._nextAttemptAt = Date.now() + delayMs;
        this._retryTimer = setTimeout(() => this._openSocket(), delayMs);
        const info = { attempt: this._failures + 1, delayMs, nextAttemptAt: this._nextAttemptAt };
        this._setState(this.state === 'fallback' ? 'fallback' : 'reconnecting', info);
    }

    /** After repeated WebSocket failures: if plain HTTP answers, follow jobs over SSE. */
    async _probeFallback() {
        if (this._probing || !this._fetch) return;
        this._probing = true;
        let ok = false;
        try {
            const controller = typeof AbortController !== 'undefined' ? new AbortController() : null;
            const timer = setTimeout(() => controller?.abort(), 5000);
            const response = await this._fetch(`${this.baseUrl}/healthz`, { cache: 'no-store', signal: controller?.signal });
            clearTimeout(timer);
            ok = response.ok;
        } catch {
            ok = false;
        } finally {
            this._probing = false;
        }
        if (ok && !this._closed && this.state !== 'live' && this.state !== 'fallback' && !this.isLive) this._enterFallback();
    }

    _enterFallback() {
        this._setState('fallback', { attempt: this._failures + 1, nextAttemptAt: this._nextAttemptAt, delayMs: this._nextAttemptAt ? Math.max(0, this._nextAttemptAt - Date.now()) : null });
        for (const t of this._jobs.values()) this._ensureSubscribed(t);
    }

    _startPing() {
        this._stopPing();
        this._pingTimer = setInterval(() => {
            if (!this.isLive) return;
            const ws = this._ws;
            this._request('ping', undefined, { timeoutMs: this.pongTimeoutMs }).catch((error) => {
                if (error.code === 'TIMEOUT' && this._ws === ws) {
                    // No pong: the socket is dead even if the browser has not noticed yet.
                    try {
                        ws.close(4001, 'pong timeout');
                    } catch {
                        /* ignore */
                    }
                    this._socketGone(ws, true);
                }
            });
        }, this.pingIntervalMs);
    }

    _stopPing() {
        clearInterval(this._pingTimer);
        this._pingTimer = null;
    }

    _request(type, payload, { timeoutMs = this.requestTimeoutMs } = {}) {
        return new Promise((resolve, reject) => {
            if (!this.isLive) {
                reject(new SpoolError({ code: 'DISCONNECTED', message: 'Not connected to the server.', retryable: true }));
                return;
            }
            const id = `c${++this._counter}`;
            const timer = setTimeout(() => {
                this._pending.delete(id);
                reject(new SpoolError({ code: 'TIMEOUT', message: 'The server did not answer in time.', retryable: true }));
            }, timeoutMs);
            this._pending.set(id, { type, resolve, reject, timer, jobId: payload?.jobId, transport: 'websocket' });
            const frame = { type, id };
            if (payload !== undefined) frame.payload = payload;
            try {
                this._ws.send(JSON.stringify(frame));
            } catch {
                clearTimeout(timer);
                this._pending.delete(id);
                reject(new SpoolError({ code: 'DISCONNECTED', message: 'Not connected to the server.', retryable: true }));
            }
        });
    }

    _rejectPending(error, transport) {
        for (const [id, p] of this._pending) {
            if (transport && p.transport !== transport) continue;
            clearTimeout(p.timer);
            this._pending.delete(id);
            p.reject(error);
        }
    }

    _takePending(id) {
        if (id === undefined || id === null) return null;
        const p = this._pending.get(String(id));
        if (!p) return null;
        clearTimeout(p.timer);
        this._pending.delete(String(id));
        return p;
    }

    // MARK: Incoming frames (WebSocket and SSE alike)

    _onText(text, transport) {
        let frame;
        try {
            frame = JSON.parse(text);
        } catch {
            return;
        }
        if (!frame || typeof frame.type !== 'string') return;
        this._emit('message', frame, transport);
        const payload = frame.payload || {};
        const pending = this._takePending(frame.id);
        switch (frame.type) {
            case 'pong':
            case 'cancel_accepted':
            case 'unsubscribed':
                pending?.resolve(payload);
                return;
            case 'error': {
                const error = new SpoolError(payload);
                if (pending) {
                    if (pending.type === 'subscribe_job' && pending.jobId) this._jobMissing(pending.jobId, error);
                    pending.reject(error);
                } else {
                    this._emit('error', error);
                }
                return;
            }
            case 'conversion_started':
                if (pending && payload.jobId) this._track(payload.jobId, 0);
                this._applyJobFrame(frame.type, payload, transport);
                pending?.resolve(payload);
                return;
            default:
                if (frame.type in JOB_EVENT_NAMES) {
                    this._applyJobFrame(frame.type, payload, transport);
                    pending?.resolve(payload);
                } else {
                    pending?.resolve(payload);
                }
        }
    }

    _applyJobFrame(type, payload, transport) {
        const jobId = payload.jobId;
        if (!jobId) return;
        const t = this._jobs.get(jobId);
        if (!t) return; // not (or no longer) followed
        const seq = Number(payload.seq) || 0;
        const snapshot = type === 'job_state';
        if (snapshot) {
            t.lastSeq = seq;
        } else {
            if (seq <= t.lastSeq) return; // seen already
            t.lastSeq = seq;
        }
        if (TERMINAL.has(payload.status)) {
            t.terminal = true;
            this._closeSse(t);
        } else {
            t.terminal = false;
        }
        if (snapshot && t.waiters.length) {
            const waiters = t.waiters;
            t.waiters = [];
            for (const w of waiters) w.resolve(payload);
        }
        this._emit(JOB_EVENT_NAMES[type], payload);
        this._emit('job', payload, { type, jobId, seq, snapshot, resync: payload.resync === true, transport });
    }

    _jobMissing(jobId, error) {
        const t = this._jobs.get(jobId);
        if (!t) return;
        if (error.code !== 'JOB_NOT_FOUND') return;
        this._jobs.delete(jobId);
        this._closeSse(t);
        for (const w of t.waiters) w.reject(error);
        this._emit('jobError', { jobId, error });
    }

    // MARK: Job bookkeeping and the SSE fallback

    _track(jobId, lastSeq) {
        let t = this._jobs.get(jobId);
        if (!t) {
            t = { jobId, lastSeq, terminal: false, wsSubscribed: false, es: null, preferSse: false, waiters: [], sseRetry: null };
            this._jobs.set(jobId, t);
        }
        return t;
    }

    _ensureSubscribed(t) {
        if (t.terminal && !t.waiters.length) return;
        if (this.isLive) {
            if (t.wsSubscribed) return;
            t.wsSubscribed = true;
            const payload = { jobId: t.jobId };
            if (t.lastSeq > 0) payload.after = t.lastSeq;
            this._request('subscribe_job', payload).catch((error) => {
                if (error.code === 'JOB_NOT_FOUND') return; // handled in _onText
                t.wsSubscribed = false;
            });
        } else if (this.state === 'fallback' || t.preferSse) {
            this._openSse(t);
        }
    }

    _openSse(t) {
        if (t.es || !this._ES || !this._jobs.has(t.jobId) || this._closed) return;
        let open = 0;
        for (const other of this._jobs.values()) if (other.es) open += 1;
        if (open >= this.maxEventSources) return; // _pumpSse opens it when a stream ends
        clearTimeout(t.sseRetry);
        const url = `${this.baseUrl}/api/conversions/${encodeURIComponent(t.jobId)}/events?after=${t.lastSeq}`;
        let es;
        try {
            es = new this._ES(url);
        } catch {
            return;
        }
        t.es = es;
        const onEvent = (event) => {
            if (t.es === es) this._onText(event.data, 'sse');
        };
        for (const type of Object.keys(JOB_EVENT_NAMES)) es.addEventListener(type, onEvent);
        es.onerror = () => {
            if (t.es !== es) return;
            // CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED: it gave up
            // (an HTTP error such as 404): find out why and try again later.
            if (es.readyState === 2) {
                t.es = null;
                this._sseGaveUp(t);
            }
        };
    }

    async _sseGaveUp(t) {
        try {
            await this._http('GET', `/api/conversions/${encodeURIComponent(t.jobId)}`);
        } catch (error) {
            if (error.code === 'JOB_NOT_FOUND') {
                this._jobMissing(t.jobId, error);
                return;
            }
        }
        if (!this._jobs.has(t.jobId) || t.terminal) return;
        t.sseRetry = setTimeout(() => {
            if (!this.isLive) this._ensureSubscribed(t);
        }, 3000);
    }

    _closeSse(t) {
        clearTimeout(t.sseRetry);
        if (t.es) {
            try {
                t.es.close();
            } catch {
                /* ignore */
            }
            t.es = null;
            this._pumpSse();
        }
    }

    /** Gives a freed SSE slot to the next job that waits for one. */
    _pumpSse() {
        if (this._closed || this.isLive) return;
        for (const t of this._jobs.values()) {
            if (t.es || (t.terminal && !t.waiters.length)) continue;
            if (this.state === 'fallback' || t.preferSse) {
                this._openSse(t);
                if (!t.es) return; // no slot left
            }
        }
    }

    // MARK: HTTP

    async _http(method, path, body) {
        if (!this._fetch) throw new SpoolError({ code: 'NETWORK', message: 'This browser cannot make requests.', retryable: false });
        let response;
        try {
            response = await this._fetch(`${this.baseUrl}${path}`, {
                method,
                headers: body ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
                body: body ? JSON.stringify(body) : undefined,
                cache: 'no-store',
            });
        } catch {
            throw new SpoolError({ code: 'NETWORK', message: 'Cannot reach the Spool server; check your connection and try again.', retryable: true });
        }
        let json = null;
        try {
            json = await response.json();
        } catch {
            json = null;
        }
        if (!response.ok) {
            throw new SpoolError(json?.error || { code: `HTTP_${response.status}`, message: `The server answered ${response.status}.`, retryable: response.status >= 500 });
        }
        return json;
    }

    // MARK: State

    _isOffline() {
        return typeof navigator !== 'undefined' && navigator.onLine === false;
    }

    _online() {
        if (this._closed || !this._started) return;
        this._failures = 0;
        if (this._ws && this._ws.readyState === 1) {
            this._setState('live');
        } else if (!this._ws) {
            this._setState('connecting', { attempt: 1 });
            this._openSocket();
        }
    }

    _offline() {
        if (this._closed || !this._started) return;
        clearTimeout(this._retryTimer);
        this._retryTimer = null;
        this._setState('offline');
    }

    _setState(state, extra = {}) {
        this.state = state;
        this.connection = {
            state,
            failures: this._failures,
            transport: state === 'live' ? 'websocket' : state === 'fallback' ? 'sse' : null,
            ...extra,
        };
        this._emit('connection', this.connection);
    }
}

export default SpoolClient;
