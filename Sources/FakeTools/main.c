// FakeTools: a synthetic yt-dlp / ffmpeg / ffprobe for Spool's benchmarks.
//
// One small C binary, tiny RSS, so a thousand of them fit on two cores. It acts as the tool named
// by basename(argv[0]) (scripts/bench makes symlinks) and prints exactly what Spool's pipeline runs
// and parses: see Sources/SpoolCore/Pipeline/ConversionPipeline.swift and the Progress parsers.
//
// Parameters travel in the source URL's query string, which only these tools read:
//   http://bench.invalid/v.mp4?lines=50&interval_ms=100&bytes=1000000&duration=10
// Latency trick: every yt-dlp progress line carries its print time (microseconds since the Unix
// epoch, CLOCK_REALTIME) in the `speed` field; Spool passes it through as speedBytesPerSecond, so a
// client computes push latency = receive time - that value.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void sleep_ms(long ms) {
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

// Reads `key=` from the query string of `url`; returns fallback when absent.
static long long query_param(const char *url, const char *key, long long fallback) {
    const char *q = url ? strchr(url, '?') : NULL;
    if (!q) return fallback;
    size_t klen = strlen(key);
    const char *p = q + 1;
    while (*p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') return atoll(p + klen + 1);
        const char *amp = strchr(p, '&');
        if (!amp) break;
        p = amp + 1;
    }
    return fallback;
}

// The raw text of `key=` in the query string (up to '&'), or NULL.
static char *query_text(const char *url, const char *key) {
    const char *q = url ? strchr(url, '?') : NULL;
    if (!q) return NULL;
    size_t klen = strlen(key);
    const char *p = q + 1;
    while (*p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1, *end = strchr(v, '&');
            return end ? strndup(v, (size_t)(end - v)) : strdup(v);
        }
        const char *amp = strchr(p, '&');
        if (!amp) break;
        p = amp + 1;
    }
    return NULL;
}

static const char *arg_after(int argc, char **argv, const char *flag) {
    for (int i = 1; i < argc - 1; i++)
        if (strcmp(argv[i], flag) == 0) return argv[i + 1];
    return NULL;
}

static int has_flag(int argc, char **argv, const char *flag) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0) return 1;
    return 0;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) { cap *= 2; buf = realloc(buf, cap + 1); }
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

// The value of "key":"..." in a flat JSON text (good enough for the JSON this program wrote).
static char *json_string(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    if (!p) return NULL;
    p += strlen(pattern);
    const char *end = strchr(p, '"');
    if (!end) return NULL;
    return strndup(p, (size_t)(end - p));
}

// ---- yt-dlp ----

static int ytdlp_metadata(const char *url) {
    long long duration = query_param(url, "duration", 10);
    long long bytes = query_param(url, "bytes", 1000000);
    // url, webpage_url are printed verbatim: bench URLs hold no characters that need escaping.
    printf("{\"id\":\"fake\",\"title\":\"Bench %lld\",\"duration\":%lld,\"extractor\":\"generic\",\"webpage_url\":\"%s\","
           "\"format_id\":\"fake\",\"formats\":[{\"format_id\":\"fake\",\"ext\":\"mp4\",\"vcodec\":\"avc1\",\"acodec\":\"mp4a\","
           "\"height\":360,\"filesize\":%lld,\"url\":\"%s\"}],\"url\":\"%s\",\"ext\":\"mp4\",\"filesize\":%lld}\n",
           (long long)getpid(), duration, url, bytes, url, url, bytes);
    fflush(stdout);
    return 0;
}

static int write_source(const char *path, long long duration) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { fprintf(stderr, "ERROR: cannot write %s: %s\n", path, strerror(errno)); return 1; }
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "FAKE duration=%lld\n", duration);
    memset(buf + n, 'x', sizeof buf - (size_t)n);
    ssize_t w = write(fd, buf, sizeof buf);
    close(fd);
    return w == (ssize_t)sizeof buf ? 0 : 1;
}

static int ytdlp_download(int argc, char **argv) {
    const char *info_path = arg_after(argc, argv, "--load-info-json");
    const char *out_template = arg_after(argc, argv, "-o");
    if (!info_path || !out_template) { fprintf(stderr, "ERROR: fake yt-dlp: need --load-info-json and -o\n"); return 2; }
    char *info = read_file(info_path, NULL);
    if (!info) { fprintf(stderr, "ERROR: fake yt-dlp: cannot read %s\n", info_path); return 1; }
    char *url = json_string(info, "webpage_url");
    long long lines = query_param(url, "lines", 50);
    long long interval = query_param(url, "interval_ms", 100);
    long long bytes = query_param(url, "bytes", 1000000);
    long long duration = query_param(url, "duration", 10);
    if (lines < 0) lines = 0;

    // -o source.%(ext)s -> source.mp4
    char out[4096];
    const char *ext = strstr(out_template, "%(ext)s");
    if (ext) snprintf(out, sizeof out, "%.*smp4%s", (int)(ext - out_template), out_template, ext + 7);
    else snprintf(out, sizeof out, "%s", out_template);

    printf("[generic] Extracting URL: %s\n[download] Destination: %s\n", url ? url : "?", out);
    fflush(stdout);
    // gate=PATH: wait (bounded, 10 minutes) until the bench creates PATH, so that every job's lines
    // start once all jobs are running; then a per-process phase spreads the lines over the interval.
    char *gate = query_text(url, "gate");
    if (gate) {
        struct stat st;
        for (int i = 0; i < 30000 && stat(gate, &st) != 0; i++) sleep_ms(20);
        free(gate);
        if (interval > 0) sleep_ms(getpid() % interval);
    }
    for (long long i = 1; i <= lines; i++) {
        sleep_ms(interval);
        long long done = bytes * i / (lines + 1);
        long long remaining_ms = (lines + 1 - i) * interval;
        // status downloaded total estimate speed eta fragment_index fragment_count
        printf("spool-dl downloading %lld %lld NA %lld %lld NA NA\n", done, bytes, now_us(), remaining_ms / 1000);
        fflush(stdout);
    }
    if (write_source(out, duration) != 0) return 1;
    printf("spool-dl finished %lld %lld NA %lld NA NA NA\n", bytes, bytes, now_us());
    fflush(stdout);
    free(url);
    free(info);
    return 0;
}

static int ytdlp(int argc, char **argv) {
    if (has_flag(argc, argv, "--version")) { puts("2025.01.01 (fake)"); return 0; }
    if (has_flag(argc, argv, "--load-info-json")) return ytdlp_download(argc, argv);
    if (has_flag(argc, argv, "-J")) {
        const char *url = argc > 1 ? argv[argc - 1] : "";
        if (strncmp(url, "http", 4) != 0) { fprintf(stderr, "ERROR: Unsupported URL: %s\n", url); return 1; }
        return ytdlp_metadata(url);
    }
    fprintf(stderr, "ERROR: fake yt-dlp: unsupported invocation\n");
    return 2;
}

// ---- ffprobe ----

static const char *strip_file(const char *arg) {
    return strncmp(arg, "file:", 5) == 0 ? arg + 5 : arg;
}

static int ffprobe(int argc, char **argv) {
    if (has_flag(argc, argv, "-version")) { puts("ffprobe version fake"); return 0; }
    const char *path = strip_file(argv[argc - 1]);
    struct stat st;
    if (stat(path, &st) != 0) { fprintf(stderr, "%s: No such file or directory\n", path); puts("{}"); return 1; }
    long long duration = 10;
    FILE *f = fopen(path, "rb");
    if (f) {
        char head[64] = {0};
        if (fgets(head, sizeof head, f)) {
            const char *d = strstr(head, "duration=");
            if (d) duration = atoll(d + 9);
        }
        fclose(f);
    }
    printf("{\"streams\":[{\"index\":0,\"codec_name\":\"h264\",\"codec_type\":\"video\",\"width\":640,\"height\":360,"
           "\"duration\":\"%lld.000000\",\"disposition\":{\"attached_pic\":0}},"
           "{\"index\":1,\"codec_name\":\"aac\",\"codec_type\":\"audio\",\"bit_rate\":\"128000\",\"duration\":\"%lld.000000\"}],"
           "\"format\":{\"filename\":\"%s\",\"format_name\":\"mov,mp4,m4a,3gp,3g2,mj2\",\"duration\":\"%lld.000000\","
           "\"size\":\"%lld\",\"bit_rate\":\"%lld\"}}\n",
           duration, duration, path, duration, (long long)st.st_size, duration > 0 ? (long long)st.st_size * 8 / duration : 0LL);
    return 0;
}

// ---- ffmpeg ----

static int copy_file(const char *from, const char *to) {
    size_t len = 0;
    char *data = read_file(from, &len);
    if (!data) { fprintf(stderr, "%s: No such file or directory\n", from); return 1; }
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { free(data); fprintf(stderr, "%s: %s\n", to, strerror(errno)); return 1; }
    ssize_t w = write(fd, data, len);
    close(fd);
    free(data);
    return w == (ssize_t)len ? 0 : 1;
}

static int ffmpeg(int argc, char **argv) {
    if (has_flag(argc, argv, "-version")) { puts("ffmpeg version fake"); return 0; }
    const char *input = arg_after(argc, argv, "-i");
    if (!input || argc < 3) { fprintf(stderr, "fake ffmpeg: need -i IN ... OUT\n"); return 1; }
    const char *env_lines = getenv("FAKE_FFMPEG_LINES");
    const char *env_interval = getenv("FAKE_FFMPEG_INTERVAL_MS");
    long long lines = env_lines ? atoll(env_lines) : 5;
    long long interval = env_interval ? atoll(env_interval) : 20;
    long long duration_us = 10000000;
    for (long long i = 1; i <= lines; i++) {
        sleep_ms(interval);
        printf("out_time_us=%lld\nspeed=%.1fx\nprogress=%s\n", duration_us * i / lines, 50.0, i == lines ? "end" : "continue");
        fflush(stdout);
    }
    if (lines <= 0) { printf("progress=end\n"); fflush(stdout); }
    return copy_file(strip_file(input), strip_file(argv[argc - 1]));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOFBF, 8192);
    char *name = basename(argv[0]);
    if (strcmp(name, "yt-dlp") == 0) return ytdlp(argc, argv);
    if (strcmp(name, "ffprobe") == 0) return ffprobe(argc, argv);
    if (strcmp(name, "ffmpeg") == 0) return ffmpeg(argc, argv);
    fprintf(stderr, "FakeTools: call me as yt-dlp, ffmpeg or ffprobe (through a symlink), not %s\n", name);
    return 2;
}
