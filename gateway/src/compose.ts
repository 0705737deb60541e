import { readFile } from "node:fs/promises";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

/** One subgraph as composition input: its name, routing URL and SDL file. */
export interface SubgraphSource {
  name: string;
  url: string;
  schemaPath: string;
}

/** Thrown when composition fails; `errors` are Federation's messages with their codes. */
export class CompositionError extends Error {
  override readonly name = "CompositionError";
  constructor(readonly errors: string[]) {
    super(`Supergraph composition failed:\n${errors.map((e) => `  - ${e}`).join("\n")}`);
  }
}

/**
 * Composes subgraph SDLs into a supergraph SDL with `@apollo/composition` (the same algorithm as
 * Rover/GraphOS, run in-process at build time).
 *
 * @returns the supergraph SDL text.
 * @throws CompositionError listing each error as `CODE: message` (e.g. `FIELD_TYPE_MISMATCH`).
 */
export async function composeSupergraph(subgraphs: SubgraphSource[]): Promise<string> {
  return composeSdl(
    await Promise.all(
      subgraphs.map(async (s) => ({ name: s.name, url: s.url, sdl: await readFile(s.schemaPath, "utf8") })),
    ),
  );
}

/**
 * Composes subgraph SDL texts (`{ name, url, sdl }`) into a supergraph SDL.
 *
 * @throws CompositionError as `composeSupergraph`; a GraphQL syntax error in an SDL is thrown as is.
 */
export function composeSdl(subgraphs: Array<{ name: string; url: string; sdl: string }>): string {
  const result = composeServices(
    subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })),
  );
  if (result.errors) {
    throw new CompositionError(
      result.errors.map(
        (e) => `${typeof e.extensions.code === "string" ? e.extensions.code : "ERROR"}: ${e.message}`,
      ),
    );
  }
  return result.supergraphSdl;
}
