// One lint configuration for the whole workspace (flat config, type-aware).

// Every subgraph by folder name: each may import only itself (CONVENTIONS.md "Dependency rules").
const SUBGRAPHS = readdirSync(new URL("./subgraphs", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import boundaries from "eslint-plugin-boundaries";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "**/generated/**", "**/dist/**", "**/.data/**", "**/.turbo/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      // Type information from the same two programs `pnpm typecheck` checks (the whole workspace as
      // one program, and the web client's src), resolved from the repository root, so lint sees the
      // same types whether it runs once at the root (the test command) or in a package (`turbo run
      // lint --filter=…`). A file in neither fails to parse: add it to tsconfig.typecheck.json.
      // typescript-eslint's projectService opened each package's tsconfig.json instead, one program
      // per package that re-read the shared packages' sources and re-derived their types: `eslint .`
      // took 49 s against 30 s (medians of three, alternating, on a 2-core machine).
      parserOptions: {
        project: ["./tsconfig.typecheck.json", "./examples/web/tsconfig.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/ban-ts-comment": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  {
    // Only src/env.ts reads process.env (CONVENTIONS.md: one zod schema per service).
    files: ["subgraphs/*/src/**/*.ts", "gateway/src/**/*.ts"],
    ignores: ["**/env.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration through src/env.ts." },
      ],
    },
  },
  {
    // Layers (CONVENTIONS.md "Dependency rules"): a subgraph never imports another subgraph or the
    // gateway, packages never import a subgraph, and nothing reaches into a package's src/ by a
    // relative path (a workspace package is imported by its name, through its entry points).
    plugins: { boundaries },
    settings: {
      // Element patterns are relative to the repository root, also when lint runs in a package.
      "boundaries/root-path": fileURLToPath(new URL(".", import.meta.url)),
      "boundaries/elements": [
        { type: "subgraph", pattern: "subgraphs/*", capture: ["name"] },
        { type: "package", pattern: "packages/*", capture: ["name"] },
        { type: "gateway", pattern: "gateway" },
        { type: "e2e", pattern: "e2e" },
        { type: "example", pattern: "examples/*", capture: ["name"] },
      ],
    },
    rules: {
      "boundaries/dependencies": [
        "error",
        {
          default: "allow",
          policies: [
            ...SUBGRAPHS.map((name) => ({
              from: { element: { type: "subgraph", captured: { name } } },
              disallow: { to: { element: { type: "subgraph", captured: { name: `!${name}` } } } },
              message: `A subgraph never imports another subgraph: replicate its data through events.`,
            })),
            {
              from: { element: { type: "subgraph" } },
              disallow: { to: { element: { type: "gateway" } } },
              message: "A subgraph never imports the gateway.",
            },
            {
              from: { element: { type: ["package", "gateway"] } },
              disallow: { to: { element: { type: "subgraph" } } },
              message: "Packages and the gateway never import a subgraph (start it as a process in tests).",
            },
          ],
        },
      ],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(\\.\\./)+(packages/[^/]+|[a-z-]+)/src(/|$)|^(\\.\\./)+packages/",
              message: "Import a workspace package by its name (@boxoffice/<name>), not by a path into it.",
            },
            {
              regex: `^@boxoffice/(${SUBGRAPHS.join("|")})(/|$)`,
              message: "A subgraph is a deployable, not a library: never import it.",
            },
          ],
        },
      ],
    },
  },
  {
    // CLIs, benchmarks, scripts and tests may print.
    files: [
      "**/bin/**",
      "**/bench/**",
      "**/scripts/**",
      "**/*.test.ts",
      "**/test/**",
      "**/cli.ts",
      "**/cli/**",
    ],
    rules: { "no-console": "off" },
  },
  {
    files: ["**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
