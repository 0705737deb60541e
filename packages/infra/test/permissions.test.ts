import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { untraversableAncestor } from "../src/postgres.ts";

const root = await mkdtemp(path.join(tmpdir(), "infra-perm-"));
afterAll(async () => {
  await chmod(root, 0o755);
  await rm(root, { recursive: true, force: true });
});

describe("untraversableAncestor (what the OS user postgres cannot reach when tests run as root)", () => {
  it("names the first directory without o+x above a path, and nothing once it is opened", async () => {
    const clone = path.join(root, "clone");
    await mkdir(path.join(clone, ".data"), { recursive: true });
    await mkdir(path.join(clone, "node_modules"), { recursive: true });
    const binary = path.join(clone, "node_modules", "initdb");
    await chmod(root, 0o700); // as `mktemp -d` creates it
    expect(await untraversableAncestor([binary, path.join(clone, ".data", "postgres")])).toBe(root);
    await chmod(root, 0o755);
    expect(await untraversableAncestor([path.join(clone, ".data", "postgres")])).toBeUndefined();
  });
});
