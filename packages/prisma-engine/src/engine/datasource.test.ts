import { describe, expect, it } from "vitest";
import { isUnmappedBuiltinOid } from "./adapter.ts";
import { parseDatasource, pgTarget, withDatabase } from "./datasource.ts";
import { redact } from "./debug-log.ts";

describe("datasource handling", () => {
  it("turns ?schema= into search_path and adapter-pg's schema, removing it from the URL (pitfall 5)", () => {
    const target = pgTarget("postgresql://u:p@db:5433/box?schema=tickets&sslmode=disable");
    expect(target.schema).toBe("tickets");
    expect(target.database).toBe("box");
    expect(target.connectionString).toBe("postgresql://u:p@db:5433/box?sslmode=disable");
    expect(target.poolConfig.options).toBe("-c search_path=tickets");
  });

  it("quotes unusual schema names and keeps user options", () => {
    const target = pgTarget("postgresql://db/box?schema=Box-Office&options=-c%20statement_timeout%3D5000");
    expect(target.poolConfig.options).toBe('-c statement_timeout=5000 -c search_path="Box-Office"');
  });

  it("builds the shadow URL by rewriting the database, not by a side option (pitfall 2)", () => {
    expect(withDatabase("postgresql://u:p@db/box?schema=t", "prisma_migrate_shadow_db_1")).toBe(
      "postgresql://u:p@db/prisma_migrate_shadow_db_1?schema=t",
    );
  });

  it("rejects non-PostgreSQL or missing URLs with a clear message", () => {
    expect(() => parseDatasource('{"url":"mysql://x"}')).toThrow(/Only postgresql/);
    expect(() => parseDatasource("{}")).toThrow(/datasource.url/);
    expect(parseDatasource('{"url":"postgres://x/y","shadowDatabaseUrl":"postgres://x/z"}')).toEqual({
      url: "postgres://x/y",
      shadowDatabaseUrl: "postgres://x/z",
    });
  });

  it('reads "char" (OID 18) and other unmapped built-ins as text, leaves mapped ones alone (pitfall 1)', () => {
    expect(isUnmappedBuiltinOid(18)).toBe(true);
    expect(isUnmappedBuiltinOid(22)).toBe(true); // int2vector
    expect(isUnmappedBuiltinOid(25)).toBe(false); // text
    expect(isUnmappedBuiltinOid(23)).toBe(false); // int4
    expect(isUnmappedBuiltinOid(20000)).toBe(false); // user-defined: adapter-pg reads text itself
  });

  it("never writes passwords to the debug log", () => {
    expect(redact('{"url":"postgresql://app:s3cret@db/box"}')).toBe('{"url":"postgresql://app:****@db/box"}');
  });
});
