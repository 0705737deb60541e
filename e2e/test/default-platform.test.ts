/**
 * The e2e suites that need only a platform with default options and never stop, restart or signal
 * one of its processes, run against ONE platform: each platform start is six Node processes and
 * several seconds of the e2e project's serial time (a file of its own per suite took 8–14 s, most of
 * it the start). The suites live in `default-platform/`, one module each, and run in the order
 * imported here.
 *
 * bad-input comes first: it proves that refused input writes nothing by comparing every table of
 * every subgraph before and after, once the platform is quiet, so it runs before the other suites
 * leave pending orders whose workers could still write.
 *
 * A suite that needs options (limits, instances, its own broker) or controls processes keeps a file
 * and a platform of its own.
 */
import "./default-platform/bad-input.ts";
import "./default-platform/sessions.ts";
import "./default-platform/read-your-writes.ts";
import "./default-platform/seed.ts";
import "./default-platform/example-client.ts";
