/**
 * Which consumer group feeds the read model (`storefront.read_model_state`, one row). A rebuild
 * replays the topics under a new group (`<namespace>.read-model.rebuild-<epoch ms>`) and the live
 * consumer must continue under that group afterwards, from where the rebuild stopped; this row is
 * how the next start of the storefront learns it. While a rebuild runs the row says so, and the
 * storefront refuses to start on the half-built tables.
 */
import type { PrismaClient } from "../db.ts";
import { readModelGroupId } from "./read-model.consumer.ts";

/** Thrown at start when a rebuild began and did not finish: the tables hold only part of the events. */
export class UnfinishedRebuildError extends Error {
  override readonly name = "UnfinishedRebuildError";
}

/**
 * The group the live read-model consumer uses: the last finished rebuild's group, or
 * `<namespace>.read-model` when there was none.
 *
 * @throws UnfinishedRebuildError when a rebuild was started and did not finish.
 */
export async function liveReadModelGroupId(prisma: PrismaClient, namespace: string): Promise<string> {
  const state = await prisma.readModelState.findUnique({ where: { id: 1 } });
  if (state?.rebuilding) {
    throw new UnfinishedRebuildError(
      `the storefront read model is half rebuilt (a rebuild started at ${state.updatedAt.toISOString()} did not finish): ` +
        "run the rebuild again (`pnpm --filter @boxoffice/storefront run rebuild-read-model`), then start the storefront",
    );
  }
  return state?.groupId ?? readModelGroupId(namespace);
}

/** Records that a rebuild starts (the tables are about to be emptied). */
export async function markRebuilding(prisma: PrismaClient, currentGroupId: string): Promise<void> {
  await prisma.readModelState.upsert({
    where: { id: 1 },
    create: { id: 1, groupId: currentGroupId, rebuilding: true },
    update: { rebuilding: true, updatedAt: new Date() },
  });
}

/** Records that a rebuild finished: the live consumer continues under `groupId`. */
export async function markRebuilt(prisma: PrismaClient, groupId: string): Promise<void> {
  await prisma.readModelState.update({
    where: { id: 1 },
    data: { groupId, rebuilding: false, updatedAt: new Date() },
  });
}
