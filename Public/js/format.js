/** Small formatting helpers for the Spool page (no dependencies). */

/** 1234567 → "1.2 MB" (decimal units, like the server's messages). */
export function formatBytes(bytes) {
    if (!Number.isFinite(bytes) || bytes < 0) return '';
    if (bytes < 1000) return `${Math.round(bytes)} B`;
    const units = ['KB', 'MB', 'GB', 'TB'];
    let value = bytes / 1000;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit += 1;
    }
    return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** 387573 → "388 KB/s". */
export function formatSpeed(bytesPerSecond) {
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '';
    return `${formatBytes(bytesPerSecond)}/s`;
}

/** 75.4 → "1:15", 3725 → "1:02:05". */
export function formatDuration(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return '';
    const total = Math.round(seconds);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const ss = String(s).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds left → "12 s left", "3 min left". */
export function formatEta(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return '';
    if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s left`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min left`;
    return `${formatDuration(seconds)} left`;
}

/** 42.25 → "42.3%" (one decimal while running, none at the ends). */
export function formatPercent(value) {
    if (!Number.isFinite(value)) return '0%';
    if (value <= 0) return '0%';
    if (value >= 100) return '100%';
    return `${value.toFixed(1)}%`;
}

/** Seconds it took → "8.4 s", "2 min 5 s". */
export function formatElapsed(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return '';
    if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds % 60);
    return s ? `${m} min ${s} s` : `${m} min`;
}

/** "https://www.example.com/watch?v=abc" → "example.com/watch?v=abc", shortened to `max` characters. */
export function shortUrl(text, max = 60) {
    let shown = String(text || '');
    try {
        const url = new URL(shown);
        shown = url.host.replace(/^www\./, '') + (url.pathname === '/' ? '' : url.pathname) + url.search;
    } catch {
        /* not a URL: show as is */
    }
    return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown;
}

/** Only http(s) URLs and same-origin paths may become links or images. */
export function safeHref(text) {
    if (typeof text !== 'string' || !text) return null;
    if (text.startsWith('/') && !text.startsWith('//')) return text;
    try {
        const url = new URL(text);
        return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch {
        return null;
    }
}
