#!/usr/bin/env node
// `boxoffice-prisma <args>`: this package's Prisma CLI, with PRISMA_SCHEMA_ENGINE_BINARY set
// to the offline engine only when no native schema engine is installed.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../src/cli/boxoffice-prisma.ts");
process.exitCode = await run(process.argv.slice(2));
