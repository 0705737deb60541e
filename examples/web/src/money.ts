/** Digits after the decimal point of an ISO 4217 currency (EUR 2, JPY 0), from the browser's Intl data. */
export function minorDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ??
      2
    );
  } catch {
    return 2;
  }
}

/** `4500, "EUR"` → "€45.00" in the user's locale. */
export function formatMoney(amountMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(
      amountMinor / 10 ** digits,
    );
  } catch {
    return `${amountMinor} ${currency} (minor units)`;
  }
}

/**
 * Parses a price typed by a person ("45", "45.5", "45.50") into minor units of `currency`.
 * @returns the integer amount, or null when the text is not a plain decimal with at most the
 * currency's number of decimals.
 */
export function parsePrice(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const match = /^\s*(\d{1,12})(?:[.,](\d*))?\s*$/.exec(text);
  if (!match) return null;
  const fraction = match[2] ?? "";
  if (fraction.length > digits) return null;
  return Number(match[1]) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}
