/**
 * Remembers the page's jobs in localStorage so a reload (or a closed tab) picks them up again:
 * the id, the last seq seen (to resume exactly there), the options (to retry) and the last
 * known state (to draw the card at once, before the server's snapshot confirms it).
 */

const KEY = 'spool.jobs.v1';
const PREFS_KEY = 'spool.prefs.v1';
const REMOVED_KEY = 'spool.removed.v1';
const MAX_REMOVED = 200;
const MAX_JOBS = 60;

/** Fields kept per job; everything else is recomputed from the server's messages. */
const FIELDS = [
    'jobId', 'lastSeq', 'url', 'format', 'quality', 'createdAt', 'title', 'thumbnailUrl', 'status', 'step', 'lastActiveStep',
    'progress', 'message', 'downloadUrl', 'filename', 'sizeBytes', 'durationSeconds', 'error', 'metrics', 'gone',
];

function storage() {
    try {
        const s = globalThis.localStorage;
        const probe = '__spool_probe__';
        s.setItem(probe, '1');
        s.removeItem(probe);
        return s;
    } catch {
        return null; // private mode or disabled: the page still works, it just forgets on reload
    }
}

export class JobStore {
    constructor() {
        this.storage = storage();
        this.timer = null;
        this.getJobs = () => [];
        /** Jobs removed (here or in another tab): no save brings them back. */
        this.removed = new Set(this.loadRemoved());
    }

    loadRemoved() {
        if (!this.storage) return [];
        try {
            const list = JSON.parse(this.storage.getItem(REMOVED_KEY) || '[]');
            return Array.isArray(list) ? list.filter((id) => typeof id === 'string') : [];
        } catch {
            return [];
        }
    }

    /** Calls `fn(jobs, removedIds)` when another tab changes the saved jobs or removes one. */
    onChange(fn) {
        globalThis.addEventListener?.('storage', (event) => {
            if (event.key !== KEY && event.key !== REMOVED_KEY) return;
            for (const id of this.loadRemoved()) this.removed.add(id);
            fn(this.load(), this.removed);
        });
    }

    /** Remembers that the person removed a job, for every tab. */
    forget(jobId) {
        this.removed.add(jobId);
        if (!this.storage) return;
        try {
            this.storage.setItem(REMOVED_KEY, JSON.stringify([...this.removed].slice(-MAX_REMOVED)));
        } catch {
            /* ignore */
        }
    }

    /** Jobs saved earlier, newest first. */
    load() {
        if (!this.storage) return [];
        try {
            const list = JSON.parse(this.storage.getItem(KEY) || '[]');
            return Array.isArray(list)
                ? list.filter((j) => j && typeof j.jobId === 'string' && j.url && j.format && !this.removed?.has(j.jobId))
                : [];
        } catch {
            return [];
        }
    }

    /** Saves soon (coalescing bursts of progress updates). `getJobs` returns the jobs newest first. */
    scheduleSave(getJobs) {
        this.getJobs = getJobs;
        if (this.timer) return;
        this.timer = setTimeout(() => this.saveNow(), 400);
    }

    saveNow(getJobs = this.getJobs) {
        clearTimeout(this.timer);
        this.timer = null;
        if (!this.storage) return;
        // Keep what other tabs saved (jobs this tab has not seen yet), newest first.
        const mine = getJobs();
        const ids = new Set(mine.map((job) => job.jobId));
        const theirs = this.load().filter((job) => !ids.has(job.jobId));
        const list = [...mine.filter((job) => !this.removed.has(job.jobId)), ...theirs]
            .sort((a, b) => String(b.createdAt || '').localeCompare(String(a.createdAt || '')))
            .slice(0, MAX_JOBS)
            .map((job) => Object.fromEntries(FIELDS.filter((f) => job[f] !== undefined && job[f] !== null).map((f) => [f, job[f]])));
        try {
            this.storage.setItem(KEY, JSON.stringify(list));
        } catch {
            /* quota: keep going without saving */
        }
    }

    loadPrefs() {
        if (!this.storage) return {};
        try {
            return JSON.parse(this.storage.getItem(PREFS_KEY) || '{}') || {};
        } catch {
            return {};
        }
    }

    savePrefs(prefs) {
        if (!this.storage) return;
        try {
            this.storage.setItem(PREFS_KEY, JSON.stringify(prefs));
        } catch {
            /* ignore */
        }
    }
}
