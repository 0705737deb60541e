/**
 * Serves the web client's production build (`examples/web/dist`, written by `vite build`) as
 * static files on its own origin, plus `/config.json` telling the app where the gateway is.
 * A static server starts in milliseconds and serves exactly what users would get from a CDN;
 * the build itself is cached by turbo (`@boxoffice/web#build`).
 */
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";

/** Where `vite build` writes the web client. */
export const WEB_DIST = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../examples/web/dist",
);

export interface WebServerOptions {
  /** The gateway's GraphQL URL as the browser must call it, e.g. `http://localhost:4000/graphql`. */
  gatewayUrl: string;
  /** Port to listen on; 0 for a free one. */
  port: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Host name in the printed URL; default `localhost` (same site as a gateway at `localhost`). */
  publicHost?: string;
  /** The built app; default {@link WEB_DIST}. */
  distDir?: string;
}

export interface WebServer {
  /** e.g. `http://localhost:3000/` */
  url: string;
  /** e.g. `http://localhost:3000` — what the gateway's CORS list must contain. */
  origin: string;
  port: number;
  stop: () => Promise<void>;
}

/**
 * Starts the static server.
 *
 * @throws Error when the build is missing (run `pnpm --filter @boxoffice/web build`) or the port is taken.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const dist = options.distDir ?? WEB_DIST;
  if (!existsSync(path.join(dist, "index.html"))) {
    throw new Error(
      `the web client is not built (${dist}/index.html is missing): run \`npx -y pnpm@12.4.2 --filter @boxoffice/web build\``,
    );
  }
  const gateway = new URL(options.gatewayUrl);
  const app = express();
  app.disable("x-powered-by");
  app.use((_req, res, next) => {
    // The app talks to its own origin (files, config) and the gateway only (OWASP CSP cheat sheet).
    res.setHeader(
      "Content-Security-Policy",
      `default-src 'self'; connect-src 'self' ${gateway.origin}; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    );
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    next();
  });
  app.get("/config.json", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({ gatewayUrl: options.gatewayUrl });
  });
  // Hashed asset names never change content: cache them; index.html must always be fresh.
  app.use(
    "/assets",
    express.static(path.join(dist, "assets"), { immutable: true, maxAge: "1y", fallthrough: false }),
  );
  app.use(express.static(dist, { index: "index.html", maxAge: 0 }));

  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${options.publicHost ?? "localhost"}:${port}`;
  return {
    url: `${origin}/`,
    origin,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
