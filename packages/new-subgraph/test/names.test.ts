/**
 * Names the generator refuses before writing anything: those that would collide with what it writes
 * beside the new folder (a workspace package, a compose service, a Kubernetes base file, the model's
 * port inside copied blocks), and entity names GraphQL reserves. Read-only against this repository.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultEntity, nameConflict, newSubgraph, REPOSITORY_ROOT } from "../src/generate.ts";

describe("subgraph names that collide outside the new folder", () => {
  it.each([
    ["events", "packages/events is a workspace package"],
    ["platform", "packages/platform is a workspace package"],
    ["web", "examples/web is a workspace package"],
    ["e2e", "e2e is a workspace package"],
    ["postgres", "docker-compose.yml already has a service named postgres"],
    ["kafka", "docker-compose.yml already has a service named kafka"],
    ["migrate", "docker-compose.yml already has a service named migrate"],
    ["config", "deploy/kubernetes/base/config.yaml exists already"],
    ["secrets", "deploy/kubernetes/base/secrets.yaml exists already"],
    ["v4002", "contains 4002"],
  ])("%s is refused: %s", (name, reason) => {
    expect(nameConflict(REPOSITORY_ROOT, name)).toContain(reason);
  });

  it("a name that collides with nothing passes", () => {
    expect(nameConflict(REPOSITORY_ROOT, "venues")).toBeUndefined();
  });
});

describe("entity names", () => {
  it.each([
    ["reviews", "Review"],
    ["categories", "Category"],
    ["addresses", "Address"],
    ["status", "Status"],
    ["news", "News"],
    ["inventory", "Inventory"],
    ["sms", "Sms"],
  ])("by default, subgraph %s holds the entity %s", (name, entity) => {
    expect(defaultEntity(name)).toBe(entity);
  });

  it.each([
    ["classes", /"class" .* JavaScript reserved word: pass another name with --entity/],
    ["switches", /"switch" .* JavaScript reserved word/],
    ["indexes", /overwrite the resolvers' index.ts: pass another name with --entity/],
  ])(
    "%s, whose entity would be named by a word the code cannot use, is refused before anything is written",
    async (name, message) => {
      const root = await mkdtemp(path.join(tmpdir(), "boxoffice-new-subgraph-"));
      try {
        await expect(newSubgraph({ name, root })).rejects.toThrow(message);
        expect(await readdir(root)).toEqual([]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  );

  it.each(["Query", "Mutation", "Subscription", "String", "ID"])(
    "%s is refused before anything is written",
    async (entity) => {
      const root = await mkdtemp(path.join(tmpdir(), "boxoffice-new-subgraph-"));
      try {
        await expect(newSubgraph({ name: "reviews", entity, root })).rejects.toThrow(
          /GraphQL root type or built-in scalar/,
        );
        expect(await readdir(root)).toEqual([]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  );
});
