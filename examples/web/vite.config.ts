import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `vite build` writes dist/, which `pnpm start` and the browser tests serve as static files.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: { port: 3000, host: "localhost", strictPort: true },
  preview: { port: 3000, host: "localhost", strictPort: true },
});
