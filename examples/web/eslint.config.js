import globals from "globals";
import base from "../../eslint.config.js";

// The app runs in a browser; tests and the vite/codegen configs run in Node.
export default [
  ...base,
  { ignores: ["test-artifacts/**"] },
  { files: ["src/**/*.{ts,tsx}"], languageOptions: { globals: { ...globals.browser } } },
];
