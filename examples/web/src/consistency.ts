/**
 * Read-your-writes in the browser: the `consistencyToken` of this tab's latest write (a ticket listed,
 * an order placed, a payment), passed as `waitFor` to the queries of read models (listings, my orders,
 * an order), so the next read shows that write instead of data from before it (README, "Read your
 * writes"). The token is opaque: stored and sent back as is. Kept in sessionStorage, so a reload of
 * the tab keeps it; cleared on sign-out.
 *
 * One token (the latest write) is enough for this client's journeys: each write builds on the one
 * before it (list → order the ticket → pay the order), and a payment's token also names the order
 * completion it causes.
 */
import { useSyncExternalStore } from "react";

const KEY = "boxoffice.consistencyToken";
const listeners = new Set<() => void>();

function read(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: read without waiting
  }
}

/** Remembers the token of a write this tab just made (null or undefined: nothing to remember). */
export function rememberWrite(token: string | null | undefined): void {
  if (!token) return;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: reads go without waiting
  }
  for (const listener of listeners) listener();
}

/** Forgets it (sign-out: the next user's reads must not wait for this one's writes). */
export function forgetWrites(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
  for (const listener of listeners) listener();
}

/** The latest write's token for `waitFor` (undefined when none: the query does not wait). */
export function useLatestWrite(): string | undefined {
  return (
    useSyncExternalStore((onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    }, read) ?? undefined
  );
}
