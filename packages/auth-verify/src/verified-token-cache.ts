import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Principal } from "./principal.ts";

interface Entry {
  readonly principal: Principal;
  /** Key-set generation the token was verified under. */
  readonly generation: number;
}

/** Hit/miss counters and current size of a verifier's verified-token cache. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
}

/**
 * Bounded LRU of tokens that passed full verification. Keyed by SHA-256 of the token, so the cache
 * never holds usable credentials (a heap dump shows hashes, not bearer tokens). Entries expire at the
 * token's `exp` and are checked against it on every read; revocation is not cached here at all.
 */
export class VerifiedTokenCache {
  readonly #lru: LRUCache<string, Entry>;
  #hits = 0;
  #misses = 0;

  /** @param maxEntries upper bound on cached tokens (positive integer). */
  constructor(maxEntries: number) {
    this.#lru = new LRUCache<string, Entry>({ max: maxEntries });
  }

  /** Cache key for a token: base64url SHA-256. */
  static keyOf(token: string): string {
    return createHash("sha256").update(token).digest("base64url");
  }

  /**
   * The principal cached for `key` if it was verified under `generation` and has not reached `exp`.
   * @param nowMs current time, ms since the Unix epoch.
   */
  get(key: string, generation: number, nowMs: number): Principal | undefined {
    const entry = this.#lru.get(key);
    if (entry !== undefined && entry.generation === generation && entry.principal.expiresAt * 1000 > nowMs) {
      this.#hits += 1;
      return entry.principal;
    }
    if (entry !== undefined) this.#lru.delete(key);
    this.#misses += 1;
    return undefined;
  }

  /** Stores a verified principal until its `exp` (never longer). @param nowMs ms since the Unix epoch. */
  set(key: string, principal: Principal, generation: number, nowMs: number): void {
    const ttl = Math.floor(principal.expiresAt * 1000 - nowMs);
    if (ttl <= 0) return;
    this.#lru.set(key, { principal, generation }, { ttl });
  }

  /** Counters since creation. */
  stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#lru.size };
  }
}
