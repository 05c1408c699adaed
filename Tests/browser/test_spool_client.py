"""SpoolClient's own rules, checked in the browser with fake transports.

The page is loaded from Spool only so that the module can be imported; the WebSocket and
EventSource here are fakes that the test drives frame by frame, so the checks are exact and fast:
de-duplication by seq, snapshots always applied, re-subscription with `after`, a missing pong
counted as a dead socket, backoff bounds, and the switch to SSE and back.
"""

import json

FAKES_JS = """
window.__fakes = (() => {
  class FakeWS {
    static instances = [];
    static mode = 'manual';           // 'manual' | 'fail' | 'open'
    constructor(url) {
      this.url = url; this.readyState = 0; this.sent = [];
      FakeWS.instances.push(this);
      if (FakeWS.mode === 'fail') setTimeout(() => this.fail(), 0);
      if (FakeWS.mode === 'open') setTimeout(() => this.open(), 0);
    }
    send(text) { if (this.readyState !== 1) throw new Error('not open'); this.sent.push(JSON.parse(text)); }
    close() { if (this.readyState === 3) return; this.readyState = 3; setTimeout(() => this.onclose && this.onclose({ code: 1000 }), 0); }
    open() { this.readyState = 1; this.onopen && this.onopen({}); }
    fail() { this.readyState = 3; this.onerror && this.onerror({}); this.onclose && this.onclose({ code: 1006 }); }
    receive(frame) { this.onmessage && this.onmessage({ data: JSON.stringify(frame) }); }
    sentOf(type) { return this.sent.filter((f) => f.type === type); }
  }
  class FakeES {
    static instances = [];
    constructor(url) { this.url = url; this.readyState = 0; this.closed = false; this.listeners = {}; FakeES.instances.push(this); }
    addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
    close() { this.closed = true; this.readyState = 2; }
    emit(type, frame) { for (const fn of this.listeners[type] || []) fn({ data: JSON.stringify(frame) }); }
  }
  return { FakeWS, FakeES };
})();
"""


def run_async(page, body):
    """Runs `body` (an async function body that may use SpoolClient, FakeWS, FakeES, sleep,
    until) in the page and returns what it returns (JSON)."""
    script = (
        FAKES_JS
        + """
const done = arguments[arguments.length - 1];
const { FakeWS, FakeES } = window.__fakes;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (fn, ms = 5000) => { const end = Date.now() + ms; while (Date.now() < end) { const v = fn(); if (v) return v; await sleep(5); } throw new Error('until: timed out: ' + fn); };
import('/js/spool-client.js').then(async ({ SpoolClient, SpoolError }) => {
  try { done(JSON.stringify({ ok: await (async () => { """
        + body
        + """ })() })); }
  catch (e) { done(JSON.stringify({ error: String(e && e.stack || e) })); }
});
"""
    )
    result = json.loads(page.driver.execute_async_script(script))
    assert "error" not in result, result["error"]
    return result["ok"]


def test_dedup_snapshots_resubscribe_and_pong_timeout(page):
    page.open()
    result = run_async(
        page,
        """
const client = new SpoolClient({ url: 'ws://fake/api/ws', WebSocketImpl: FakeWS, EventSourceImpl: FakeES,
  backoff: { initialMs: 10, maxMs: 40 }, random: () => 1, pingIntervalMs: 60, pongTimeoutMs: 40 });
const seen = [];
const states = [];
client.on('job', (p, info) => seen.push([info.type, p.seq]));
client.on('connection', (c) => states.push(c.state));
client.connect();
const ws0 = FakeWS.instances[0];
ws0.open();
const sub = client.subscribe('job-1', { after: 2 });
const request = await until(() => ws0.sentOf('subscribe_job')[0]);
const snapshot = { jobId: 'job-1', seq: 4, status: 'running', progress: 40, currentStep: 'download' };
ws0.receive({ type: 'job_state', id: request.id, payload: snapshot });
for (const seq of [3, 4, 5, 5, 6]) ws0.receive({ type: 'progress_update', payload: { ...snapshot, seq } });
const first = await sub;
// A snapshot is applied even with a lower seq (a server that lost state), and is the new base.
ws0.receive({ type: 'job_state', payload: { ...snapshot, seq: 2 } });
ws0.receive({ type: 'progress_update', payload: { ...snapshot, seq: 3 } });
const afterSnapshot = client.job('job-1').lastSeq;
// No pong: the socket counts as dead, the client reconnects and resubscribes from the last seq.
await until(() => ws0.sentOf('ping').length > 0);
await until(() => FakeWS.instances.length === 2, 3000);
const ws1 = FakeWS.instances[1];
ws1.open();
const again = await until(() => ws1.sentOf('subscribe_job')[0]);
// A terminal event ends following: no resubscribe after the next reconnect.
ws1.receive({ type: 'conversion_completed', payload: { ...snapshot, seq: 4, status: 'completed', progress: 100 } });
ws1.fail();
await until(() => FakeWS.instances.length === 3, 3000);
const ws2 = FakeWS.instances[2];
ws2.open();
await sleep(30);
const resubscribedFinished = ws2.sentOf('subscribe_job').length;
client.close();
return { seen, first: first.seq, afterSnapshot, again: again.payload, states, resubscribedFinished };
""",
    )
    assert result["first"] == 4
    assert result["seen"][:3] == [["job_state", 4], ["progress_update", 5], ["progress_update", 6]], result["seen"]
    assert result["seen"][3:5] == [["job_state", 2], ["progress_update", 3]], result["seen"]
    assert result["afterSnapshot"] == 3
    assert result["again"] == {"jobId": "job-1", "after": 3}
    assert result["seen"][-1] == ["conversion_completed", 4]
    assert result["resubscribedFinished"] == 0
    states = result["states"]
    assert states[0] == "connecting" and "live" in states and "reconnecting" in states and states[-1] == "closed", states


def test_backoff_full_jitter_bounds_and_sse_fallback_and_back(page):
    page.open()
    result = run_async(
        page,
        """
FakeWS.mode = 'fail';
const infos = [];
const client = new SpoolClient({ url: 'ws://fake/api/ws', WebSocketImpl: FakeWS, EventSourceImpl: FakeES,
  backoff: { initialMs: 20, maxMs: 80 }, random: () => 0.999 });
client.on('connection', (c) => infos.push({ state: c.state, delayMs: c.delayMs, attempt: c.attempt }));
client.subscribe('job-2', { after: 7 }).catch(() => {});
client.connect();
await until(() => client.state === 'fallback', 5000);
const es = await until(() => FakeES.instances[0]);
const sseUrl = es.url;
es.emit('job_state', { type: 'job_state', payload: { jobId: 'job-2', seq: 9, status: 'running', progress: 50, currentStep: 'transcode' } });
es.emit('progress_update', { type: 'progress_update', payload: { jobId: 'job-2', seq: 9, status: 'running', progress: 50, currentStep: 'transcode' } });
es.emit('progress_update', { type: 'progress_update', payload: { jobId: 'job-2', seq: 10, status: 'running', progress: 60, currentStep: 'transcode' } });
const viaSse = client.job('job-2');
// WebSockets work again: back to live, SSE closed, resubscribed with the last seq.
FakeWS.mode = 'open';
await until(() => client.state === 'live', 5000);
const ws = FakeWS.instances[FakeWS.instances.length - 1];
const resub = await until(() => ws.sentOf('subscribe_job')[0]);
const delays = infos.filter((i) => i.state === 'reconnecting' && i.delayMs !== undefined).map((i) => [i.attempt, i.delayMs]);
client.close();
FakeWS.mode = 'manual';
return { sseUrl, viaSse, esClosed: es.closed, resub: resub.payload, delays, states: infos.map((i) => i.state) };
""",
    )
    assert result["sseUrl"].endswith("/api/conversions/job-2/events?after=7"), result["sseUrl"]
    assert result["viaSse"] == {"jobId": "job-2", "lastSeq": 10, "terminal": False, "transport": "sse"}
    assert result["esClosed"] is True
    assert result["resub"] == {"jobId": "job-2", "after": 10}
    # Full jitter: the n-th wait is at most min(maxMs, initialMs * 2^(n-1)); random() = 0.999 hits the caps.
    assert len(result["delays"]) >= 2, result
    for attempt, delay in result["delays"]:
        cap = min(80, 20 * 2 ** (attempt - 2))
        assert 0 <= delay <= cap and delay >= cap * 0.99 - 1, (attempt, delay, result["delays"])
    states = result["states"]
    assert "fallback" in states and states.index("fallback") > states.index("reconnecting") and "live" in states, states


def test_convert_rejects_with_the_servers_error_payload(page):
    page.open()
    page.wait_connection("live")
    result = run_async(
        page,
        """
const client = new SpoolClient();
client.connect();
await until(() => client.state === 'live');
const outcomes = [];
for (const request of [{ url: 'ftp://x', format: 'mp3' }, { url: 'https://example.com/a', format: 'ogg' },
                       { url: 'https://example.com/a', format: 'mp3', quality: '999' }]) {
  try { await client.convert(request); outcomes.push('resolved'); }
  catch (e) { outcomes.push({ name: e.name, code: e.code, message: e.message, retryable: e.retryable, isSpoolError: e instanceof SpoolError }); }
}
let missing;
try { await client.subscribe('00000000-0000-0000-0000-000000000000'); } catch (e) { missing = e.code; }
// The same through HTTP (what the client uses when not live).
client.close();
const http = new SpoolClient();
let viaHttp;
try { await http.convert({ url: 'ftp://x', format: 'mp3' }); } catch (e) { viaHttp = e.code; }
return { outcomes, missing, viaHttp };
""",
    )
    codes = [o["code"] for o in result["outcomes"]]
    assert codes == ["INVALID_URL", "UNSUPPORTED_FORMAT", "INVALID_QUALITY"], result
    assert all(o["isSpoolError"] and o["message"] and o["retryable"] is False for o in result["outcomes"])
    assert result["missing"] == "JOB_NOT_FOUND"
    assert result["viaHttp"] == "INVALID_URL"


def test_sse_streams_are_limited_and_handed_on(page):
    page.open()
    result = run_async(
        page,
        """
FakeWS.mode = 'fail';
const client = new SpoolClient({ url: 'ws://fake/api/ws', WebSocketImpl: FakeWS, EventSourceImpl: FakeES,
  backoff: { initialMs: 5, maxMs: 5000 }, random: () => 1, maxEventSources: 2 });
for (const id of ['a', 'b', 'c']) client.subscribe(id).catch(() => {});
client.connect();
await until(() => client.state === 'fallback', 5000);
await until(() => FakeES.instances.length >= 2);
await sleep(30);
const openAtFirst = FakeES.instances.map((es) => es.url.split('/conversions/')[1].split('/')[0]);
// 'a' ends: its stream closes and 'c' gets the slot.
FakeES.instances[1].emit('job_state', { type: 'job_state',
  payload: { jobId: 'b', seq: 3, status: 'running', progress: 30, currentStep: 'download' } });
FakeES.instances[0].emit('job_state', { type: 'job_state',
  payload: { jobId: 'a', seq: 4, status: 'running', progress: 90, currentStep: 'store' } });
await sleep(20);
const stillTwo = FakeES.instances.length;
FakeES.instances[0].emit('conversion_completed', { type: 'conversion_completed',
  payload: { jobId: 'a', seq: 5, status: 'completed', progress: 100, currentStep: 'completed' } });
await until(() => FakeES.instances.length === 3);
const third = FakeES.instances[2].url.split('/conversions/')[1].split('/')[0];
const closedFirst = FakeES.instances[0].closed;
client.close();
FakeWS.mode = 'manual';
return { openAtFirst, third, closedFirst, stillTwo };
""",
    )
    assert result["openAtFirst"] == ["a", "b"], result
    assert result["closedFirst"] is True
    assert result["stillTwo"] == 2
    assert result["third"] == "c"
