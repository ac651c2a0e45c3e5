import type { Config } from "../config.ts";

/**
 * The master key: from the environment when set; for an in-memory store, a
 * fresh random key (nothing outlives the process anyway); in development, a
 * key generated once into a file beside the KV file.
 */
export async function resolveMasterKey(config: Config): Promise<Uint8Array> {
  if (config.masterKey) return config.masterKey;
  if (!config.kvPath || config.kvPath === ":memory:") {
    return crypto.getRandomValues(new Uint8Array(32));
  }
  const file = config.kvPath.replace(/[^/]*$/, "") + "master.key";
  try {
    return Uint8Array.from(
      atob((await Deno.readTextFile(file)).trim()),
      (c) => c.charCodeAt(0),
    );
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  await Deno.writeTextFile(file, btoa(String.fromCharCode(...key)) + "\n", {
    mode: 0o600,
    createNew: true,
  });
  return key;
}
