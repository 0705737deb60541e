/**
 * `pnpm new:subgraph NAME [--entity Type]`: writes subgraphs/NAME from the template, registers it in
 * packages/topology/topology.json, then runs `pnpm install` to link it (when started through pnpm).
 */
import { spawnSync } from "node:child_process";
import { Command } from "commander";
import { newSubgraph, REPOSITORY_ROOT } from "./generate.ts";

const program = new Command()
  .name("new:subgraph")
  .description(
    "generate subgraphs/<name> (one entity, own PostgreSQL schema) and register it in the topology",
  )
  .argument("<name>", "subgraph name: lower-case letters and digits, starting with a letter (e.g. reviews)")
  .option("--entity <Type>", "the example entity's type name (default: the name, singular, capitalised)")
  .option("--root <dir>", "repository to write into", REPOSITORY_ROOT)
  .option("--no-install", "skip `pnpm install` afterwards")
  .showHelpAfterError()
  .action(async (name: string, options: { entity?: string; root: string; install: boolean }) => {
    const { declaration, written } = await newSubgraph({ name, entity: options.entity, root: options.root });
    console.log(`subgraph ${name} on port ${declaration.port}:\n  ${written.join("\n  ")}`);
    // pnpm sets npm_execpath for scripts: link the new workspace package with the same pnpm.
    const pnpm = process.env.npm_execpath;
    if (options.install && pnpm) {
      // pnpm 12 is a native executable; older ones are a JavaScript file run by node.
      const [command, args] = /\.[cm]?js$/.test(pnpm)
        ? [process.execPath, [pnpm, "install"]]
        : [pnpm, ["install"]];
      const result = spawnSync(command, args, { cwd: options.root, stdio: "inherit" });
      if (result.status !== 0) process.exit(result.status ?? 1);
    } else {
      console.log("next: npx -y pnpm@12.4.2 install   (links the new package, records it in pnpm-lock.yaml)");
    }
    console.log(
      `then: npx -y pnpm@12.4.2 --filter @boxoffice/${name} generate   (its Prisma client and resolver types)`,
    );
    console.log(
      `then: npx vitest run --project ${name}; \`pnpm start\` composes the supergraph with it and starts it on ${declaration.port}.`,
    );
  });

// `pnpm new:subgraph -- reviews` passes the `--` through; it only separates pnpm's options.
await program
  .parseAsync(process.argv.filter((arg, i) => !(arg === "--" && i >= 2)))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
