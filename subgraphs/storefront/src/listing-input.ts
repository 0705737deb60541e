/**
 * Validation of what clients send to the listings query: page size, price bounds, search text and
 * the opaque keyset cursor. Every check runs before the database is asked.
 */
import { badUserInput, isUuid } from "@boxoffice/service-kit";

/** Page size bounds of `listings`. */
export const PAGE_MIN = 1;
export const PAGE_MAX = 100;
export const PAGE_DEFAULT = 20;
/** Longest accepted search text, in UTF-16 code units (a title is at most 200). */
export const SEARCH_MAX = 200;

/** A position in the listings order (newest first): the listing's `listed_at` in µs since 1970 and its id. */
export interface ListingCursor {
  listedAtMicros: bigint;
  id: string;
}

const CURSOR_PREFIX = "l1:";
/**
 * Latest `listed_at` a cursor may name: 9999-12-31T23:59:59.999999Z in µs. A cursor before 1970 or
 * beyond this is not one we made, and PostgreSQL's timestamptz arithmetic on it can fail (SQLSTATE
 * 22008, "timestamp out of range") — an internal error instead of the client's BAD_USER_INPUT.
 */
const CURSOR_MAX_MICROS = 253_402_300_799_999_999n;

/**
 * The opaque cursor of a listing: base64url of `l1:<µs since epoch>:<id>`. Microseconds, not a
 * JavaScript Date, because `timestamptz` keeps microseconds and a millisecond cursor could skip or
 * repeat rows.
 */
export function encodeCursor(cursor: ListingCursor): string {
  return Buffer.from(`${CURSOR_PREFIX}${cursor.listedAtMicros}:${cursor.id}`, "utf8").toString("base64url");
}

/**
 * Parses an `after` cursor made by `encodeCursor`.
 * @throws GraphQLError BAD_USER_INPUT (field `after`) for anything else.
 */
export function decodeCursor(raw: string): ListingCursor {
  const invalid = () => badUserInput("after is not a listings cursor.", "after");
  if (raw.length > 200 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalid();
  const text = Buffer.from(raw, "base64url").toString("utf8");
  const match = /^l1:(\d{1,18}):([0-9a-f-]{36})$/.exec(text);
  if (!match?.[1] || !match[2] || !isUuid(match[2])) throw invalid();
  const listedAtMicros = BigInt(match[1]);
  if (listedAtMicros > CURSOR_MAX_MICROS) throw invalid();
  return { listedAtMicros, id: match[2] };
}

/** Page size bounds of a user's `orders` and `sales.items` (newest first). */
export const HISTORY_MAX = 100;
export const HISTORY_DEFAULT = 50;

/**
 * The `first` of `User.orders` / `Sales.items`: default 50.
 * @throws GraphQLError BAD_USER_INPUT (field `first`) outside 1–100.
 */
export function parseHistoryFirst(first: number | null | undefined): number {
  const size = first ?? HISTORY_DEFAULT;
  if (!Number.isInteger(size) || size < 1 || size > HISTORY_MAX) {
    throw badUserInput(`first must be from 1 to ${HISTORY_MAX}.`, "first");
  }
  return size;
}

/** The validated `listings` arguments. */
export interface ListingsQuery {
  search: string | undefined;
  minPrice: number | undefined;
  maxPrice: number | undefined;
  onlyAvailable: boolean;
  first: number;
  after: ListingCursor | undefined;
}

/** The `listings` arguments as a client sends them (GraphQL nulls included). */
export interface ListingsArgs {
  filter?: {
    search?: string | null;
    minPrice?: number | null;
    maxPrice?: number | null;
    onlyAvailable?: boolean | null;
  } | null;
  first?: number | null;
  after?: string | null;
}

/**
 * Validates the `listings` arguments. Blank search text means no search.
 * @throws GraphQLError BAD_USER_INPUT naming the field: `first` outside 1–100, a negative or
 *   non-integer price bound, `minPrice` above `maxPrice`, search text over 200 characters or with a NUL
 *   character, a bad cursor.
 */
export function parseListingsArgs(args: ListingsArgs): ListingsQuery {
  const first = args.first ?? PAGE_DEFAULT;
  if (!Number.isInteger(first) || first < PAGE_MIN || first > PAGE_MAX) {
    throw badUserInput(`first must be from ${PAGE_MIN} to ${PAGE_MAX}.`, "first");
  }
  const filter = args.filter ?? {};
  const price = (value: number | null | undefined, field: string) => {
    if (value == null) return undefined;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw badUserInput(`${field} must be a whole, non-negative number of minor units.`, field);
    }
    return value;
  };
  const minPrice = price(filter.minPrice, "filter.minPrice");
  const maxPrice = price(filter.maxPrice, "filter.maxPrice");
  if (minPrice !== undefined && maxPrice !== undefined && minPrice > maxPrice) {
    throw badUserInput("filter.minPrice must not be above filter.maxPrice.", "filter.minPrice");
  }
  const search = filter.search?.trim() ?? "";
  if (search.length > SEARCH_MAX) {
    throw badUserInput(`filter.search must be at most ${SEARCH_MAX} characters.`, "filter.search");
  }
  // PostgreSQL text cannot hold U+0000 (it would fail as SQLSTATE 22021, an internal error).
  if (search.includes("\u0000")) {
    throw badUserInput("filter.search must not contain the NUL character.", "filter.search");
  }
  return {
    search: search === "" ? undefined : search,
    minPrice,
    maxPrice,
    onlyAvailable: filter.onlyAvailable ?? false,
    first,
    after: args.after == null ? undefined : decodeCursor(args.after),
  };
}
