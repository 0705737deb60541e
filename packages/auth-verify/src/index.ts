// Public entry point of @boxoffice/auth-verify. Subgraphs import only from here.
export { AuthConfigError, AuthError, MAX_TOKEN_LENGTH, type AuthErrorReason } from "./auth-error.ts";
export type { HeaderGetter, HeaderRecord, HeadersLike, RequestLike } from "./credentials.ts";
export { extractToken } from "./credentials.ts";
export {
  createAuthContext,
  forbiddenError,
  requireOwner,
  requireRole,
  requireUser,
  unauthenticatedError,
  type AuthContext,
  type AuthContextArgs,
} from "./graphql-context.ts";
export type {
  JwksUrlKeySource,
  KeySource,
  KeyStoreKeySource,
  PublicKeysKeySource,
  StaticJwksKeySource,
} from "./key-source.ts";
export { createKeyStore, type KeyStore, type KeyStoreState } from "./key-store.ts";
export { ANONYMOUS, type AuthResult, type Principal } from "./principal.ts";
export {
  createSessionCookies,
  DEV_SESSION_COOKIE_NAME,
  SESSION_COOKIE_NAME,
  type DeploymentEnvironment,
  type SessionCookieOptions,
  type SessionCookies,
  type SessionTokenForCookie,
} from "./session-cookies.ts";
export {
  createSessionSigner,
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  type IssuedSessionToken,
  type IssueSessionInput,
  type SessionSigner,
  type SessionSignerOptions,
  type SigningKey,
} from "./session-signer.ts";
export { SESSION_TOKEN_ALGORITHM, SESSION_TOKEN_TYPE, type AsymmetricAlgorithm } from "./session-token.ts";
export type { CacheStats } from "./verified-token-cache.ts";
export { createVerifier, type IsRevoked, type Verifier, type VerifierOptions } from "./verifier.ts";
