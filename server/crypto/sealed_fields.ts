import { connectionsPrefix, grantsPrefix, walletsPrefix } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import type { Grant } from "../grants/grant.ts";
import type { Wallet } from "../wallets/wallet.ts";
import type { Sealed } from "./secret_box.ts";

/** Every record that holds a sealed secret: the funding keys of wallets, connections and grants. */
export const SEALED_FIELDS = [
  {
    prefix: walletsPrefix(),
    read: (w: Wallet): Sealed[] => (w.funding ? [w.funding.sealed] : []),
    write: (w: Wallet, [sealed]: Sealed[]): Wallet =>
      w.funding ? { ...w, funding: { ...w.funding, sealed } } : w,
  },
  {
    prefix: connectionsPrefix(),
    read: (c: Connection): Sealed[] => [c.funding],
    write: (c: Connection, [funding]: Sealed[]): Connection => ({
      ...c,
      funding,
    }),
  },
  {
    prefix: grantsPrefix(),
    read: (g: Grant): Sealed[] => [g.funding],
    write: (g: Grant, [funding]: Sealed[]): Grant => ({ ...g, funding }),
  },
];
