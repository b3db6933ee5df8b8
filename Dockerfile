# One image for every part of the engine; docker-compose.yml picks the part with `command`:
#   node --import tsx scripts/{api,worker,simulator}.ts | npm run db:migrate | npm run demo:seed
# Long-running parts run under node itself with tsx as a loader: npm does not pass SIGTERM on to the
# script it runs, and the tsx CLI relays it to a child process that it SIGKILLs when the child does
# not acknowledge within 60 ms (a loaded machine), which would skip the graceful shutdown.
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, so that a source change does not reinstall them. Install scripts are not
# needed by anything the engine uses (the Prisma client is generated below without engine
# downloads; Temporal's and esbuild's native binaries ship in their packages).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY . .
# prisma generate, offline (db/generate.ts); output in generated/prisma.
RUN npm run db:generate

# The processes run as the image's unprivileged user; nothing writes under /app at run time.
# The simulator's data dir (a volume in docker-compose.yml): a new volume takes this owner.
RUN mkdir -p /app/.data/simulator && chown -R node:node /app/.data
USER node
ENV NODE_ENV=production \
    HOST=0.0.0.0
EXPOSE 3000 4010
CMD ["node", "--import", "tsx", "scripts/api.ts"]
