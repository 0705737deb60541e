# One parametrised multi-stage image for every Boxoffice deployable (gateway, subgraphs, migrate job).
#   docker build --build-arg SERVICE=subgraphs/accounts -t boxoffice/accounts .
# `build` compiles each deployable and the libraries it uses with tsc into dist/ (after `generate`
# wrote Prisma clients, resolver types and the supergraph; emit only, `noCheck`: type errors are
# caught by `pnpm typecheck`, which `pnpm test` and CI run right after the build); the container runs that JavaScript with
# the `compiled` export condition, so workspace packages resolve to their dist/ too. tsx is for
# development only. Node 24 (active LTS); the workspace supports Node >= 22.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@12.4.2
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
# Fixes to dependencies that upstream has not released (pnpm patchedDependencies; CONTRIBUTING.md).
COPY patches patches
COPY gateway/package.json gateway/
COPY e2e/package.json e2e/
COPY examples examples
COPY packages packages
COPY subgraphs subgraphs
RUN pnpm install --frozen-lockfile

FROM deps AS build
COPY . .
RUN pnpm exec turbo run build

FROM node:24-bookworm-slim AS runtime
ARG SERVICE=gateway
ENV NODE_ENV=production SERVICE_DIR=${SERVICE}
WORKDIR /app
RUN npm install -g pnpm@12.4.2 && useradd --system --uid 10001 boxoffice
COPY --from=build --chown=boxoffice /app /app
USER boxoffice
WORKDIR /app/${SERVICE}
CMD ["node", "--conditions=compiled", "dist/main.js"]
