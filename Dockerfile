# syntax=docker/dockerfile:1
# tierstream images, all from one build (docker-compose.yml builds them):
#   runtime                       production deps + compiled services; runs tierctl
#   ingest / scoring / notifier   runtime + that worker's entry point
# By hand: docker build --target scoring -t tierstream-scoring .

# Only the workspaces' package.json files (for any services/<name>/, so new workers are
# picked up), so the `npm ci` layers stay cached until a dependency changes.
FROM node:22-bookworm-slim AS manifests
WORKDIR /app
COPY services ./services
RUN find services -mindepth 2 -maxdepth 2 ! -name package.json -exec rm -rf {} +

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=manifests /app/services ./services
# Only the TypeScript compiler is needed here: no install scripts (native test-only deps).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# Every package with a tsconfig.json (test/ is not part of the image: see .dockerignore).
RUN npx tsc --build services/*/tsconfig.json
# What the runtime image needs: each package's manifest and its `files` (dist, lua, ...)
# without tests, declarations and source maps; the topics file, schemas and policies.
RUN set -eu; \
    mkdir -p /out/infra; \
    cp infra/topics.yaml /out/infra/; \
    cp -R schemas /out/; \
    if [ -d policies ]; then cp -R policies /out/; fi; \
    for pkg in services/*/; do \
      mkdir -p "/out/$pkg"; \
      cp "${pkg}package.json" "/out/$pkg"; \
      for f in $(node -p "(require('./${pkg}package.json').files || ['dist']).join(' ')"); do \
        if [ -e "$pkg$f" ]; then cp -R "$pkg$f" "/out/$pkg"; fi; \
      done; \
    done; \
    find /out/services -type f \( -name '*.test.js' -o -name '*.d.ts' -o -name '*.map' \) -delete

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=manifests /app/services ./services
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /out/ ./
# Files stay root-owned (read-only for the process).
USER node
EXPOSE 8080
CMD ["node", "services/cli/dist/main.js", "--help"]

FROM runtime AS ingest
CMD ["node", "services/ingest/dist/main.js"]

FROM runtime AS scoring
CMD ["node", "services/scoring/dist/main.js"]

FROM runtime AS notifier
CMD ["node", "services/notifier/dist/main.js"]
