# Spool: build with the Swift toolchain, run on slim Debian with ffmpeg and a pinned yt-dlp.
#   docker build -t spool .
#   docker run -p 8080:8080 -v spool-data:/app/storage spool

FROM swift:6.3-bookworm AS build
WORKDIR /build
# Resolve first so the dependency layer is cached across source edits.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
RUN swift build -c release --product Spool --static-swift-stdlib \
 && mkdir -p /staging \
 && cp "$(swift build -c release --show-bin-path)/Spool" /staging/

FROM debian:bookworm-slim
ARG YTDLP_VERSION=2026.10.26
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ffmpeg python3 python3-pip ca-certificates libsqlite3-0 libstdc++6 tzdata \
 && python3 -m pip install --no-cache-dir --break-system-packages "yt-dlp==${YTDLP_VERSION}" \
 && apt-get purge -y python3-pip && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /app --uid 10001 spool
WORKDIR /app
COPY --from=build /staging/Spool /usr/local/bin/spool
COPY Public ./Public
RUN mkdir -p /app/storage && chown spool:spool /app/storage
USER spool
VOLUME ["/app/storage"]
ENV HTTP_HOST=0.0.0.0 HTTP_PORT=8080 STORAGE_PATH=/app/storage PUBLIC_PATH=/app/Public
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
ENTRYPOINT ["/usr/local/bin/spool"]
