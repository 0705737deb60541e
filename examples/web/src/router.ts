/**
 * Hash routes (`#/orders/<id>`): the app is static files, so any server can serve it without
 * rewriting paths, and Back/Forward work.
 */
import { useSyncExternalStore } from "react";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

/** The current route path, e.g. "/orders/0193…" ("/" for an empty hash). */
export function useRoute(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash.replace(/^#/, "") || "/");
}

/** Goes to `path` (adds a history entry). */
export function navigate(path: string): void {
  window.location.hash = path;
}

/** `href` for a route path. */
export function href(path: string): string {
  return `#${path}`;
}
