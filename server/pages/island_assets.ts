import { islandName } from "./generate_manifest.ts";

/** Bundled island scripts: file name → bytes, and island name → its entry file. */
export interface IslandAssets {
  files: Map<string, Uint8Array>;
  entries: Map<string, string>;
}

const ROOT = new URL("../../", import.meta.url);
/** Where `deno task build` leaves islands for a deploy (no subprocesses there). */
export const PREBUILT_DIR = new URL(".build/islands/", ROOT);

let assets: Promise<IslandAssets> | null = null;

/**
 * The island bundles, made once per process: in production, from
 * `.build/islands/` (`deno task build`; Deno Deploy runs no subprocesses);
 * elsewhere with `deno bundle` now, so edits always show. Entries get
 * content-hashed names so they can be cached forever.
 */
export function islandAssets(prebuilt: boolean): Promise<IslandAssets> {
  assets ??= prebuilt
    ? loadPrebuilt().then((found) => {
      if (!found) {
        throw new Error(
          "no prebuilt islands in .build/islands/: run `deno task build` before deploying",
        );
      }
      return found;
    })
    : bundleIslands(null);
  return assets;
}

/** Bundles every island (with shared chunks) into `outDir`, or memory when null. */
export async function bundleIslands(outDir: URL | null): Promise<IslandAssets> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL("islands/", ROOT))) {
    if (/\.tsx?$/.test(entry.name)) names.push(islandName(entry.name));
  }
  names.sort();
  const work = await Deno.makeTempDir({ prefix: "wattfare-islands-" });
  try {
    // One small entry per island: import it, hydrate its markers.
    const entryFiles = [];
    for (const name of names) {
      const file = `${work}/${name}.tsx`;
      const island = new URL(`islands/${name}.tsx`, ROOT).href;
      const hydrate = new URL("./hydrate.ts", import.meta.url).href;
      await Deno.writeTextFile(
        file,
        `import island from ${JSON.stringify(island)};\n` +
          `import { hydrateIslands } from ${JSON.stringify(hydrate)};\n` +
          `hydrateIslands(${JSON.stringify(name)}, island);\n`,
      );
      entryFiles.push(file);
    }
    const out = `${work}/out`;
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=browser",
        "--minify",
        "--code-splitting",
        // The browser gets the automatic JSX runtime: the service's
        // "precompile" mode makes string templates, for server rendering only.
        "--config",
        new URL("./islands_bundle.json", import.meta.url).pathname,
        // Versions are pinned in that config; no lockfile beside it.
        "--no-lock",
        "--outdir",
        out,
        ...entryFiles,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!result.success) {
      throw new Error(
        `bundling islands failed: ${new TextDecoder().decode(result.stderr)}`,
      );
    }
    const files = new Map<string, Uint8Array>();
    const entries = new Map<string, string>();
    for await (const entry of Deno.readDir(out)) {
      const bytes = await Deno.readFile(`${out}/${entry.name}`);
      const island = names.find((name) => entry.name === `${name}.js`);
      const fileName = island
        ? `${island}.${await shortHash(bytes)}.js`
        : entry.name;
      files.set(fileName, bytes);
      if (island) entries.set(island, fileName);
    }
    if (outDir) {
      await Deno.mkdir(outDir, { recursive: true });
      for (const [name, bytes] of files) {
        await Deno.writeFile(new URL(name, outDir), bytes);
      }
      await Deno.writeTextFile(
        new URL("entries.json", outDir),
        JSON.stringify(Object.fromEntries(entries)),
      );
    }
    return { files, entries };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

async function loadPrebuilt(): Promise<IslandAssets | null> {
  let entries: Record<string, string>;
  try {
    entries = JSON.parse(
      await Deno.readTextFile(new URL("entries.json", PREBUILT_DIR)),
    );
  } catch {
    return null;
  }
  const files = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(PREBUILT_DIR)) {
    if (entry.name.endsWith(".js")) {
      files.set(
        entry.name,
        await Deno.readFile(new URL(entry.name, PREBUILT_DIR)),
      );
    }
  }
  return { files, entries: new Map(Object.entries(entries)) };
}

async function shortHash(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}
