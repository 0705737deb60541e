-- Search that ignores accents: "bjork" finds "Björk", "motorhead" finds "Motörhead" (and the other
-- way round). `unaccent` is a trusted contrib extension (PostgreSQL docs, F.48); a text search
-- configuration that runs it before the 'simple' dictionary keeps to_tsvector(config, text)
-- immutable, as a generated column requires (PostgreSQL docs §12.7, "Configuration Example").
CREATE EXTENSION IF NOT EXISTS "unaccent" SCHEMA "storefront";

CREATE TEXT SEARCH CONFIGURATION "storefront"."simple_unaccent" (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION "storefront"."simple_unaccent"
    ALTER MAPPING FOR asciihword, asciiword, hword, hword_asciipart, hword_part, word
    WITH "storefront"."unaccent", pg_catalog.simple;

-- A generated column's expression cannot be altered portably: drop and add it again (PostgreSQL
-- computes it for every existing row).
DROP INDEX "listings_search_idx";
ALTER TABLE "listings" DROP COLUMN "search";
ALTER TABLE "listings" ADD COLUMN "search" tsvector
    GENERATED ALWAYS AS (to_tsvector('storefront.simple_unaccent'::regconfig, "title")) STORED;
CREATE INDEX "listings_search_idx" ON "listings" USING GIN ("search");
