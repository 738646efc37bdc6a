# One image for every role: `docker run podometer <role> [flags]` (default: all).
# Build stage: install, compile, drop dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install keeps the locked versions (npm ci refuses a lockfile without msgpackr-extract's optional platform builds on some registries).
RUN npm install --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY services services
COPY simulator simulator
COPY test test
RUN npx tsc -p tsconfig.json && rm -rf dist/test && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: the compiled code and production dependencies only, as the unprivileged node user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules node_modules
COPY --from=build --chown=node:node /app/dist dist
COPY --chown=node:node bin bin
COPY --chown=node:node package.json ./
USER node
# api 8082; /metrics of scheduler 9101, scraper 9102, processor 9103, exporter 9104, eventer 9105
EXPOSE 8082 9101 9102 9103 9104 9105
# V8 flags on the command line (NODE_OPTIONS refuses them): services/common/node-flags.ts says why.
ENTRYPOINT ["node", "--no-memory-reducer", "bin/podometer.js"]
CMD ["all"]
