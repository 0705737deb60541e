/**
 * The one platform the suites in this folder share (`usePlatform()` with its defaults). Importing this
 * module registers its start and stop hooks in the importing test file, once however many suites
 * import it; `default-platform.test.ts` is that file.
 */
import { usePlatform } from "../support/client.ts";

export const world = usePlatform();
