# dnslinkd container image: Node 24 LTS slim, built in one stage and run in another, as a
# non-root user, with a liveness health check on /livez. DNS on 10053 (UDP+TCP), HTTP on 8053.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency ships its own binary; the image has Node 24 already, so skip scripts
# here and build explicitly below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts
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
ENV NODE_ENV=production \
    DNSLINKD_DNS=0.0.0.0:10053 \
    DNSLINKD_DNS__ALLOW='["127.0.0.0/8","::1","10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","fc00::/7"]' \
    DNSLINKD_HTTP=0.0.0.0:8053
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/udp-batch/build ./native/udp-batch/build
COPY package.json ./
COPY bin ./bin
COPY fixtures/local-records.json ./fixtures/local-records.json
USER node
EXPOSE 10053/udp 10053/tcp 8053/tcp
# /livez answers 200 as long as the process serves. /healthz is a readiness check that can answer
# 503 (e.g. while upstreams fail): restarting the container would not fix that, so it is not used here.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8053/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/dnslinkd.js"]
CMD ["serve"]
