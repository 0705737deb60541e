import { defineConfig } from "prisma/config";

// The storefront subgraph owns the PostgreSQL schema "storefront": its tables, its _prisma_migrations,
// nothing else (CONVENTIONS.md: each service owns its data).
const url = new URL(process.env["DATABASE_URL"] ?? "postgresql://postgres:postgres@127.0.0.1:54329/postgres");
url.searchParams.set("schema", "storefront");

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: url.toString(), shadowDatabaseUrl: process.env["SHADOW_DATABASE_URL"] },
});
