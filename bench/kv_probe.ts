/**
 * The service with its Deno KV calls counted, for the KV-operations pass of
 * the benchmark. It wraps the methods of `Deno.Kv` and `Deno.AtomicOperation`
 * (the service's code is untouched), then runs `main.ts` as usual.
 *
 * On SIGUSR1 it prints one stdout line:
 * `{"msg":"kv_probe","counters":{…}}`. The wrapping costs a little time, so
 * throughput figures come from the plain `main.ts`, never from this entry.
 */

/** Counts of KV calls since start. */
export interface KvCounters {
  /** `kv.get` calls. */
  get: number;
  /** `kv.getMany` calls and the keys they read. */
  getMany: number;
  getManyKeys: number;
  /** `kv.list` calls. */
  list: number;
  /** Atomic commits that succeeded / failed their checks (= retries). */
  commitsOk: number;
  commitsFailed: number;
  /** Checks, mutations (set/delete/sum/…) and enqueues inside committed-or-not atomics. */
  checks: number;
  mutations: number;
  enqueues: number;
  /** Direct `kv.set`/`kv.delete`/`kv.enqueue` calls (each one commit). */
  directWrites: number;
  /** Queue messages delivered to the service's listener. */
  queueDeliveries: number;
}

const counters: KvCounters = {
  get: 0,
  getMany: 0,
  getManyKeys: 0,
  list: 0,
  commitsOk: 0,
  commitsFailed: 0,
  checks: 0,
  mutations: 0,
  enqueues: 0,
  directWrites: 0,
  queueDeliveries: 0,
};

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => any;

function wrap(
  proto: object,
  name: string,
  before: (args: unknown[]) => void,
  after?: (result: unknown) => unknown,
): void {
  const target = proto as Record<string, AnyFn>;
  const original = target[name];
  if (typeof original !== "function") return;
  target[name] = function (this: unknown, ...args: unknown[]) {
    before(args);
    const result = original.apply(this, args);
    return after ? after(result) : result;
  };
}

const kvProto = Deno.Kv.prototype;
wrap(kvProto, "get", () => counters.get++);
wrap(kvProto, "getMany", (args) => {
  counters.getMany++;
  counters.getManyKeys += Array.isArray(args[0]) ? args[0].length : 0;
});
wrap(kvProto, "list", () => counters.list++);
for (const name of ["set", "delete", "enqueue"]) {
  wrap(kvProto, name, () => counters.directWrites++);
}
wrap(kvProto, "listenQueue", (args) => {
  const handler = args[0] as AnyFn;
  args[0] = (message: unknown) => {
    counters.queueDeliveries++;
    return handler(message);
  };
});

const atomicProto = Deno.AtomicOperation.prototype;
wrap(atomicProto, "check", (args) => counters.checks += args.length);
for (const name of ["set", "delete", "sum", "min", "max", "mutate"]) {
  wrap(atomicProto, name, (args) => {
    counters.mutations += name === "mutate" ? args.length : 1;
  });
}
wrap(atomicProto, "enqueue", () => counters.enqueues++);
wrap(
  atomicProto,
  "commit",
  () => {},
  (result) =>
    (result as Promise<Deno.KvCommitResult | Deno.KvCommitError>).then(
      (outcome) => {
        if (outcome.ok) counters.commitsOk++;
        else counters.commitsFailed++;
        return outcome;
      },
    ),
);

Deno.addSignalListener("SIGUSR1", () => {
  console.log(JSON.stringify({ msg: "kv_probe", counters }));
});

await import("../main.ts");
