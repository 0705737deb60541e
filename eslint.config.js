// One lint configuration for the whole workspace (flat config, type-aware).
import js from "@eslint/js";
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
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "bin/*.js"] } },
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
