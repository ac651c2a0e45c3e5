/**
 * Bundles the example's browser code (`client.tsx`) once, with `react`
 * mapped to `preact/compat` by `bundle_import_map.json`: the SDK's React
 * entry point runs unchanged on Preact. The workspace's own config is left
 * out on purpose: its `sdk/` member maps `react` to React itself, and two
 * Reacts in one page break hooks.
 */
export async function bundleClient(): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "wattfare-example-" });
  try {
    const out = `${dir}/app.js`;
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=browser",
        "--minify",
        "--no-config",
        "--import-map",
        new URL("./bundle_import_map.json", import.meta.url).pathname,
        "-o",
        out,
        new URL("./client.tsx", import.meta.url).pathname,
      ],
      stderr: "piped",
    }).output();
    if (!result.success) {
      throw new Error(
        `bundling the example failed: ${
          new TextDecoder().decode(result.stderr)
        }`,
      );
    }
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
