# syntax=docker/dockerfile:1
# One image per service: docker build --target ingress|worker|dashboard .
# Node runs the TypeScript sources directly (type stripping): no compile step.
# Each image holds its service's pruned bundle (scripts/bundle.ts): its own
# sources, the workspace packages it uses, and their production dependencies.

FROM node:24-slim AS build
RUN npm install -g pnpm@12.21.0 && npm cache clean --force
WORKDIR /src
COPY . .
# The worker's image holds the operator CLI too: kubectl exec deploy/worker -- bridge status <uuid>.
RUN node scripts/bundle.ts ingress /bundles/ingress && node scripts/bundle.ts worker,cli /bundles/worker && \
    node scripts/bundle.ts dashboard /bundles/dashboard

FROM node:24-slim AS runtime
# tini as PID 1: signals reach node, zombies are reaped.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
ENTRYPOINT ["/usr/bin/tini", "--"]

FROM runtime AS ingress
COPY --from=build --chown=root:root /bundles/ingress /app
# Node's compile cache, filled here as the user and with the V8 flags of the CMD (it is kept per
# user and per set of flags): a new container strips no TypeScript, which would load the stripper
# (about 25 MB more resident memory for as long as it runs). Read-only at run time is enough.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
RUN mkdir "$NODE_COMPILE_CACHE" && chown node:node "$NODE_COMPILE_CACHE"
USER node
# --no-allocation-site-pretenuring: under a stream of webhooks V8 sometimes began allocating
# request objects in the old generation, and from then on every scavenge promoted nearly all
# of the young one (scavenges of 13-16 ms, p99 18-22 ms, in 3 of 8 runs; never with the flag).
RUN node --no-allocation-site-pretenuring --import ./packages/runtime/src/compile-cache.mjs packages/runtime/src/warm-compile-cache.mjs services/ingress/src/main.ts
# 3000: webhooks, OAuth, admin API, probes. 9464 (METRICS_PORT): /metrics and /queue-depth, keep it private.
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--no-allocation-site-pretenuring", "--import", "./packages/runtime/src/compile-cache.mjs", "services/ingress/src/main.ts"]

FROM runtime AS worker
COPY --from=build --chown=root:root /bundles/worker /app
# The storage volume's mount point, owned by the user that writes to it.
RUN mkdir -p /data/productions && chown node:node /data/productions && \
    printf '#!/bin/sh\nexec node /app/services/cli/src/main.ts "$@"\n' > /usr/local/bin/bridge && chmod 755 /usr/local/bin/bridge
# The compile cache, as in the ingress's stage; the S3 driver is imported only when configured.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
RUN mkdir "$NODE_COMPILE_CACHE" && chown node:node "$NODE_COMPILE_CACHE"
USER node
RUN node --max-semi-space-size=1 --v8-pool-size=2 --import ./packages/runtime/src/compile-cache.mjs packages/runtime/src/warm-compile-cache.mjs packages/storage/src/s3-driver.ts services/worker/src/main.ts
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# As `pnpm start:worker`: a small young generation keeps a streaming download's garbage from piling up;
# two V8 helper threads, not four (its work is I/O, MD5 and fsync): idle with S3 99.4-99.8 MB, not
# 100.4-100.7, peaks as before (with one thread, a run peaked at 152 MB).
CMD ["node", "--max-semi-space-size=1", "--v8-pool-size=2", "--import", "./packages/runtime/src/compile-cache.mjs", "services/worker/src/main.ts"]

FROM runtime AS dashboard
COPY --from=build --chown=root:root /bundles/dashboard /app
# The compile cache, as in the ingress's stage.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
RUN mkdir "$NODE_COMPILE_CACHE" && chown node:node "$NODE_COMPILE_CACHE"
USER node
RUN node --import ./packages/runtime/src/compile-cache.mjs packages/runtime/src/warm-compile-cache.mjs services/dashboard/src/main.ts
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3001)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "./packages/runtime/src/compile-cache.mjs", "services/dashboard/src/main.ts"]

# The Auphonic simulator and the demo driver, for `docker compose --profile demo up` only
# (neither has dependencies beyond Node).
FROM runtime AS simulator
COPY --from=build /src/packages/simulator /app/packages/simulator
COPY --from=build /src/scripts/compose-demo.ts /app/scripts/compose-demo.ts
USER node
EXPOSE 4010 4011
CMD ["node", "packages/simulator/src/cli.ts"]
