/**
 * Validation of what clients send: ticket fields, ids and page arguments. Every check runs before
 * anything is written, so a refused request leaves no row and no event behind.
 */
import { badUserInput, parseUuid } from "@boxoffice/service-kit";

/** Title bounds in Unicode code points; 200 is also the event contract's limit (ticket.created). */
export const TITLE_MAX = 200;
/** Price bounds in minor units: at least 1, at most 100 000 000 (one million major units of a 2-decimal currency). */
export const PRICE_MIN = 1;
export const PRICE_MAX = 100_000_000;
/** Page size bounds of the `tickets` query. */
export const PAGE_MAX = 100;

/**
 * ISO 4217 codes in circulation, from the ICU data Node ships (`Intl.supportedValuesOf("currency")`,
 * ECMA-402 §6.3), so no hand-kept list goes stale.
 */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"));

/**
 * A ticket id from the client, lower-cased.
 * @throws GraphQLError BAD_USER_INPUT (field `field`) when it is not a UUID.
 */
export function parseTicketId(raw: string, field = "id"): string {
  return parseUuid(raw, field, "Not a ticket id.");
}

/**
 * A title: trimmed, Unicode NFC, 1 to 200 code points, well-formed UTF-16, no control, format
 * (except the emoji joiner U+200D), separator, private-use or unassigned characters, and at least
 * one visible character — so a listing can neither look blank nor hide reversed text (Unicode
 * TR #36 "Unicode Security Considerations": bidi overrides and invisible characters).
 * @throws GraphQLError BAD_USER_INPUT (field `input.title`) naming the rule that failed.
 */
export function parseTitle(raw: string): string {
  // Bound the work before normalising: a 10 KB title is refused without scanning it twice.
  if (raw.length > TITLE_MAX * 4) throw badUserInput(`Use at most ${TITLE_MAX} characters.`, "input.title");
  // Unpaired surrogates (category Cs) would be stored as U+FFFD: not what the seller sent.
  if (/\p{Cs}/u.test(raw)) throw badUserInput("The title is not valid Unicode text.", "input.title");
  const title = raw.trim().normalize("NFC");
  const length = [...title].length;
  if (length === 0) throw badUserInput("Enter a title.", "input.title");
  if (length > TITLE_MAX) throw badUserInput(`Use at most ${TITLE_MAX} characters.`, "input.title");
  if (/\p{Cc}/u.test(title)) {
    throw badUserInput("The title cannot contain control characters.", "input.title");
  }
  if (/[\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?!\u200d)\p{Cf}/u.test(title)) {
    throw badUserInput("The title cannot contain invisible or formatting characters.", "input.title");
  }
  // Letters that render as blanks (Hangul fillers, the blank Braille pattern) do not count as visible.
  const visible = title.replace(/[\u115f\u1160\u3164\uffa0\u2800]/gu, "");
  if (!/[\p{L}\p{N}\p{P}\p{S}]/u.test(visible)) throw badUserInput("Enter a title.", "input.title");
  return title;
}

/**
 * A price in minor units: an integer from 1 to 100 000 000. GraphQL's `Int` already refuses
 * fractions and values beyond 32 bits; this checks the business range.
 * @throws GraphQLError BAD_USER_INPUT (field `input.priceMinor`).
 */
export function parsePriceMinor(raw: number): number {
  if (!Number.isSafeInteger(raw) || raw < PRICE_MIN || raw > PRICE_MAX) {
    throw badUserInput(
      `Enter a whole number of minor units from ${PRICE_MIN} to ${PRICE_MAX}.`,
      "input.priceMinor",
    );
  }
  return raw;
}

/**
 * An ISO 4217 alphabetic code in circulation, returned upper case ("eur" → "EUR").
 * @throws GraphQLError BAD_USER_INPUT (field `input.currency`) for anything else.
 */
export function parseCurrency(raw: string): string {
  const code = raw.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code) || !CURRENCIES.has(code)) {
    throw badUserInput("Enter an ISO 4217 currency code such as EUR.", "input.currency");
  }
  return code;
}

/**
 * The `tickets` page arguments.
 * @throws GraphQLError BAD_USER_INPUT (field `first` or `after`) when `first` is outside 1–100 or
 *   `after` is not a ticket id.
 */
export function parsePage(first: number | null | undefined, after: string | null | undefined) {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > PAGE_MAX) {
    throw badUserInput(`first must be from 1 to ${PAGE_MAX}.`, "first");
  }
  return { first: size, after: after == null ? undefined : parseTicketId(after, "after") };
}
