/**
 * Copies the listings screenshot that the browser tests took (test-artifacts/listings.png) to
 * docs/web-client.png, the picture the README shows. Run after `vitest run --project web`.
 */
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../../..");
const from = path.join(root, "examples/web/test-artifacts/listings.png");
const to = path.join(root, "docs/web-client.png");
await mkdir(path.dirname(to), { recursive: true });
await copyFile(from, to);
console.log(`copied ${path.relative(root, from)} → ${path.relative(root, to)}`);
