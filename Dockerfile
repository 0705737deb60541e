# One parametrised multi-stage image for every Boxoffice deployable (gateway, subgraphs, migrate job).
#   docker build --build-arg SERVICE=subgraphs/accounts -t boxoffice/accounts .
# The workspace has no build step: TypeScript runs through tsx; `generate` writes Prisma clients,
# resolver types and the supergraph.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@12.4.2
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY gateway/package.json gateway/
COPY e2e/package.json e2e/
COPY examples examples
COPY packages packages
COPY subgraphs subgraphs
RUN pnpm install --frozen-lockfile

FROM deps AS build
COPY . .
RUN pnpm exec turbo run generate

FROM node:20-bookworm-slim AS runtime
ARG SERVICE=gateway
ENV NODE_ENV=production SERVICE_DIR=${SERVICE}
WORKDIR /app
RUN npm install -g pnpm@12.4.2 && useradd --system --uid 10001 boxoffice
COPY --from=build --chown=boxoffice /app /app
USER boxoffice
WORKDIR /app/${SERVICE}
CMD ["node", "--import", "tsx", "src/main.ts"]
