# Parley in a container: one static-ish binary on a small Debian, run as a non-root user.
#
#   docker build -t parley .
#   docker run -p 8080:8080 -v parley-data:/data parley           # SQLite in the volume
#   docker run -e PARLEY_DATABASE_URL=postgres://... parley        # a node of a cluster
#
# deploy/compose.yml runs PostgreSQL and two nodes behind a reverse proxy.

# --- build ------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /src
# The manifests first: the dependencies build once and stay cached while the code changes.
COPY Cargo.toml Cargo.lock ./
COPY connectors/sdk/Cargo.toml connectors/sdk/
COPY connectors/telegram/Cargo.toml connectors/telegram/
COPY connectors/webhook/Cargo.toml connectors/webhook/
COPY connectors/widget/Cargo.toml connectors/widget/
COPY connectors/whatsapp/Cargo.toml connectors/whatsapp/
COPY connectors/discord/Cargo.toml connectors/discord/
RUN for c in sdk telegram webhook widget whatsapp discord; do \
        mkdir -p connectors/$c/src && echo > connectors/$c/src/lib.rs; done \
    && mkdir -p src benches tests && echo 'fn main() {}' > src/main.rs && echo > src/lib.rs && echo > tests/main.rs \
    && for b in chat_list contact_search ingest_load widget_load telegram_load reports_load outbox_lanes whatsapp_load discord_load; do \
        echo 'fn main() {}' > benches/$b.rs; done \
    && cargo build --release --locked --bin parley || true
COPY . .
# Touch the sources so cargo rebuilds them, not the placeholders above.
RUN find src connectors -name '*.rs' -exec touch {} + \
    && cargo build --release --locked --bin parley \
    && strip target/release/parley

# --- run --------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: HTTPS to the platforms and TLS to a managed PostgreSQL;
# curl: the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin parley \
    && mkdir -p /data /etc/parley && chown parley:parley /data
COPY --from=build /src/target/release/parley /usr/local/bin/parley
COPY config/parley.toml /etc/parley/parley.toml
USER parley
WORKDIR /data
VOLUME ["/data"]
ENV PARLEY_CONFIG=/etc/parley/parley.toml \
    PARLEY_DATABASE_URL=sqlite:///data/parley.db \
    PARLEY_LISTEN=0.0.0.0:8080 \
    PARLEY_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM finishes the requests in flight; queued work stays queued for the next start.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["serve"]
