/**
 * @boxoffice/prisma-engine: Prisma Migrate without the native schema engine.
 *
 * Services run `boxoffice-prisma <prisma args>` (or {@link runPrisma}); the engine executable
 * itself is `bin/schema-engine.js`. See README.md for the protocol and the pitfalls.
 */
export {
  chooseSchemaEngine,
  ENGINE_ENV_VARS,
  nativeEngineSearchDirs,
  prismaCliEnv,
  prismaCliPath,
  runPrisma,
  schemaEngineBinPath,
  type ChooseSchemaEngineOptions,
  type RunPrismaOptions,
  type SchemaEngineChoice,
} from "./prisma-cli.ts";
export { DEBUG_LOG_ENV } from "./engine/debug-log.ts";
