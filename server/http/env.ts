import type { Config } from "../config.ts";
import type { SecretBox } from "../crypto/secret_box.ts";
import type { Caller } from "./auth.ts";
import type { Webhooks } from "../webhooks/webhooks.ts";
import type { LeaseView } from "../connections/status.ts";

/** What every request handler can reach through `c.var`. */
export interface Env {
  Variables: {
    kv: Deno.Kv;
    config: Config;
    box: SecretBox;
    /** Current time in ms; tests replace it. */
    clock: () => number;
    caller: Caller;
    webhooks: Webhooks;
    /** This process's unused leased budget, which status pages count as remaining. */
    leases: LeaseView;
  };
}
