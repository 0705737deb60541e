#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: a development tool, not part of the compiled deployables.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
