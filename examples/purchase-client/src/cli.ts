/** `pnpm --filter @boxoffice/example-purchase-client start [gatewayUrl]` — runs the purchase journey. */
import { runPurchaseJourney } from "./journey.ts";

const url = process.argv[2] ?? "http://127.0.0.1:4000/graphql";
runPurchaseJourney(url, (line) => console.log(line)).then(
  (result) => console.log(JSON.stringify(result)),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
