/**
 * `deno task sdk:pack`: builds the npm package `wattfare` from `sdk/`.
 *
 * `deno pack` does the real work (ESM + `.d.ts` per module, a `package.json`
 * with conditional exports and dependencies from the import map). This
 * script then makes it the `wattfare` package: the npm name, `react` as an
 * optional peer, `ai` as a dependency (so `npm install wattfare` is enough
 * for the docs' `import { generateText } from "ai"`), and checks the result
 * before writing `dist/wattfare-<version>.tgz`.
 *
 * Usage: `deno run -A sdk/pack.ts [--out DIR]` (default: `dist/` at the
 * repository root). Needs `tar` on the PATH.
 *
 * @module
 */

const SDK_DIR = new URL(".", import.meta.url);
const REPO_DIR = new URL("../", SDK_DIR);

/** The npm name of the package. */
export const NPM_NAME = "wattfare";

/** The version range of `ai` the package works with. */
const AI_RANGE = "^7.0.173";
/** React versions the hooks support (only hooks and `createContext` are used). */
const REACT_RANGE = "^18.0.0 || ^19.0.0";

/** Entry points, as `deno.json` exports them. */
const ENTRIES = ["./server", "./client", "./react"] as const;

/** Builds the tarball into `outDir`; returns its path. */
export async function pack(outDir: string): Promise<string> {
  const work = await Deno.makeTempDir({ prefix: "wattfare-pack-" });
  try {
    const raw = `${work}/raw.tgz`;
    await run(Deno.execPath(), [
      "pack",
      "--allow-dirty",
      "--output",
      raw,
    ], SDK_DIR);
    await run("tar", ["-xzf", raw, "-C", work]);
    const dir = `${work}/package`;

    const manifestPath = `${dir}/package.json`;
    const generated = JSON.parse(await Deno.readTextFile(manifestPath));
    const manifest = npmManifest(generated);
    await Deno.writeTextFile(
      manifestPath,
      JSON.stringify(manifest, null, 2) + "\n",
    );
    await check(dir, manifest);

    await Deno.mkdir(outDir, { recursive: true });
    const tarball = `${
      outDir.replace(/\/+$/, "")
    }/${NPM_NAME}-${manifest.version}.tgz`;
    await run("tar", ["-czf", tarball, "-C", work, "package"]);
    return tarball;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

interface Manifest {
  name: string;
  version: string;
  exports: Record<
    string,
    { types?: string; import?: string; default?: string }
  >;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/** `deno pack`'s manifest, made into the `wattfare` package's. */
function npmManifest(generated: Manifest): Manifest {
  const dependencies = { ...generated.dependencies };
  delete dependencies.react;
  delete dependencies["@types/react"];
  dependencies.ai = AI_RANGE;
  return {
    name: NPM_NAME,
    version: generated.version,
    description:
      "Wattfare SDK: your users fund their own AI inference, within caps they approve.",
    keywords: ["ai", "ai-sdk", "llm", "billing", "openrouter", "wattfare"],
    homepage: "https://wattfare.com",
    license: generated.license,
    type: "module",
    sideEffects: false,
    engines: { node: ">=22" },
    exports: generated.exports,
    dependencies: sortKeys(dependencies),
    peerDependencies: { react: REACT_RANGE },
    peerDependenciesMeta: { react: { optional: true } },
  };
}

/** Refuses a package that lacks an entry, types, the README, or carries tests. */
async function check(dir: string, manifest: Manifest): Promise<void> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) files.push(entry.name);
  const problems: string[] = [];
  for (const name of files) {
    if (/_test\.|^pack\./.test(name)) problems.push(`unwanted file ${name}`);
  }
  if (!files.includes("README.md")) problems.push("no README.md");
  for (const entry of ENTRIES) {
    const exported = manifest.exports[entry];
    for (const field of ["types", "import"] as const) {
      const path = exported?.[field];
      if (!path || !files.includes(path.replace(/^\.\//, ""))) {
        problems.push(`export ${entry} has no ${field} file`);
      }
    }
  }
  if (Object.keys(manifest.exports).length !== ENTRIES.length) {
    problems.push(`unexpected exports: ${Object.keys(manifest.exports)}`);
  }
  if (problems.length) {
    throw new Error(
      `sdk:pack: the package is not right:\n  ${problems.join("\n  ")}`,
    );
  }
}

async function run(command: string, args: string[], cwd?: URL): Promise<void> {
  const { code, stderr } = await new Deno.Command(command, {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${code}):\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).sort(([a], [b]) => a.localeCompare(b)),
  );
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--out");
  const outDir = at >= 0 && Deno.args[at + 1]
    ? Deno.args[at + 1]
    : new URL("dist", REPO_DIR).pathname;
  const tarball = await pack(outDir);
  console.log(tarball);
}
