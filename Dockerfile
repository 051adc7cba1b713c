# kms-bot image: Node 20 on Debian slim, built in one stage and run from a second, smaller one.
#   docker build -t kms-bot .
#   docker run --env-file .env -p 3000:3000 -v kms-data:/app/data kms-bot
# (This repository's machines have no Docker daemon: the file is checked by reading.)

FROM node:20-bookworm-slim AS build
WORKDIR /app
# sqlite3 is a native addon: a prebuilt binary is used when one fits, else it compiles with these.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# npm ci builds dist/ (the "prepare" script), then the dev dependencies go.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATABASE_URL=sqlite:/app/data/kms.sqlite3
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The SQLite database (when DATABASE_URL is sqlite:) lives on a volume owned by the non-root user.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node runs directly (no npm, no shell in between): SIGTERM reaches the bot, which drains and exits.
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=128", "dist/src/main.js"]
