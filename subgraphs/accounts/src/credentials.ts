import { hash, verify } from "@node-rs/argon2";
import { badUserInput } from "@boxoffice/service-kit";
import { z } from "zod";

/**
 * argon2id with OWASP's first recommended configuration: m=19 MiB (19456 KiB), t=2, p=1
 * (OWASP Password Storage Cheat Sheet, "Argon2id").
 */
// `Algorithm` is an ambient const enum (not importable under verbatimModuleSyntax); 2 is Argon2id.
const ARGON2ID = 2;
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Password length bounds in Unicode code points (OWASP ASVS 4.0 V2.1.1 and V2.1.2). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;
/** RFC 5321 §4.5.3.1: a path is at most 256 octets including the angle brackets, so 254 for the address. */
export const EMAIL_MAX = 254;

const emailSchema = z.email();

/**
 * Normalises an e-mail address for storage and lookup: trimmed, Unicode NFC, lower-case (the
 * local part is case-sensitive in theory, RFC 5321 §2.4, but no mainstream provider treats it so,
 * and case-variant duplicates are a classic account-takeover confusion).
 *
 * @throws GraphQLError BAD_USER_INPUT (field `input.email`) when empty, too long or not an address.
 */
export function normaliseEmail(raw: string): string {
  const email = raw.trim().normalize("NFC").toLowerCase();
  if (email.length === 0 || email.length > EMAIL_MAX || !emailSchema.safeParse(email).success) {
    throw badUserInput("Enter a valid e-mail address.", "input.email");
  }
  return email;
}

/**
 * Checks a new password: 12–128 code points, and not the e-mail address itself.
 *
 * @throws GraphQLError BAD_USER_INPUT (field `input.password`) naming the rule that failed.
 */
export function checkNewPassword(password: string, email: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw badUserInput(`Use at least ${PASSWORD_MIN} characters.`, "input.password");
  if (length > PASSWORD_MAX) throw badUserInput(`Use at most ${PASSWORD_MAX} characters.`, "input.password");
  if (password.trim().toLowerCase() === email || new Set(password).size < 4) {
    throw badUserInput("Choose a less guessable password.", "input.password");
  }
}

/** argon2id hash in PHC string format. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/**
 * A hash of a random password, verified against when the e-mail is unknown, so an unknown
 * e-mail and a wrong password take comparable time (OWASP Authentication Cheat Sheet,
 * "Authentication and Error Messages").
 */
const dummyHash = hashPassword(crypto.randomUUID());

/** Verifies `password` against `phc`, or against a dummy hash when there is no account. */
export async function verifyPassword(phc: string | undefined, password: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX * 4) return false; // bound the work an attacker can ask for
  if (phc === undefined) {
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  return verify(phc, password).catch(() => false);
}
