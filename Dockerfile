# dnslinkd container image: Node 24 LTS slim. The build stage has the dev dependencies and the
# TypeScript compiler; the runtime stage has only the production dependencies (npm ci --omit=dev)
# and the compiled dist/. Runs as a non-root user, keeps its state in a volume, has a health check
# on /livez that follows the configured HTTP port. DNS on 10053 (UDP+TCP), HTTP on 8053.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency ships its own binary; the image has Node 24 already, so skip scripts
# here and build explicitly below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json
# The operator console's front end (docs/console.md), bundled by esbuild into dist/console/.
COPY console ./console
COPY scripts/build-console.mjs ./scripts/
RUN node scripts/build-console.mjs
# The batched UDP addon (dns.udpBatching, native/udp-batch/README.md): g++ against the image's own
# Node headers (/usr/local/include/node). Without g++ (no package mirror) the image still builds
# and serves UDP on node:dgram.
COPY native ./native
RUN mkdir -p native/udp-batch/build && \
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ >/dev/null && rm -rf /var/lib/apt/lists/* || true) && \
    node native/udp-batch/build.mjs

FROM node:24-slim
# DNS answers loopback and private networks only (RFC 1918, RFC 4193): the container listens on
# every address, and dnslinkd refuses to start as an open resolver. Set DNSLINKD_DNS__ALLOW to your
# clients' networks (docs/configuration.md, dns.allow).
# No demo records: DNSLINKD_LOCAL_RECORDS=null. Ask for them with
# -e DNSLINKD_LOCAL_RECORDS=/app/fixtures/local-records.json (or name your own file).
# State (overrides, audit log, the generated admin token) in DNSLINKD_DATA_DIR, a volume.
ENV NODE_ENV=production \
    DNSLINKD_DNS=0.0.0.0:10053 \
    DNSLINKD_DNS__ALLOW='["127.0.0.0/8","::1","10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","fc00::/7"]' \
    DNSLINKD_HTTP=0.0.0.0:8053 \
    DNSLINKD_LOCAL_RECORDS=null \
    DNSLINKD_DATA_DIR=/var/lib/dnslinkd
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional too: TypeScript is an optional peer of viem, so --omit=dev alone keeps the
# compiler (and its platform binaries, the only optional packages) in the image.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/udp-batch/build ./native/udp-batch/build
COPY bin ./bin
COPY fixtures/local-records.json ./fixtures/local-records.json
# `dnslinkd` on the PATH, for the admin commands run inside: docker exec dnslinkd dnslinkd status
# (the admin API listens on the container's loopback; the CLI finds its token in the data dir).
RUN ln -s /app/bin/dnslinkd.js /usr/local/bin/dnslinkd \
    && mkdir -p /var/lib/dnslinkd && chown node:node /var/lib/dnslinkd
VOLUME ["/var/lib/dnslinkd"]
USER node
EXPOSE 10053/udp 10053/tcp 8053/tcp
# /livez answers 200 as long as the process serves. /healthz is a readiness check that can answer
# 503 (e.g. while upstreams fail): restarting the container would not fix that, so it is not used
# here. dist/cli/healthcheck.js reads the configuration as serve does (DNSLINKD_CONFIG, DNSLINKD_*
# variables), so a port changed there is followed; a port given as a `serve --http` flag is not.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "dist/cli/healthcheck.js"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/dnslinkd.js"]
CMD ["serve"]
