import type { IssuedSessionToken } from "@boxoffice/auth-verify";
import type { AccountsContext } from "../context.ts";

/** Appends the session cookie (HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age = token lifetime). */
export function setSessionCookie(ctx: AccountsContext, issued: IssuedSessionToken, userId: string): void {
  ctx.res.appendHeader("Set-Cookie", ctx.services.cookies.serialize(issued));
  ctx.viewer.userId = userId; // the rest of this response is read as the new session's user
}
