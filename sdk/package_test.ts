/** The package's shape: what `deno publish` and the docs see. */
import assert from "node:assert/strict";

const SDK_DIR = new URL(".", import.meta.url);
const ENTRIES = ["server.ts", "client.ts", "react.tsx"];

async function deno(
  args: string[],
): Promise<{ code: number; out: string; stdout: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: SDK_DIR,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code,
    out: decoder.decode(stdout) + decoder.decode(stderr),
    stdout: decoder.decode(stdout),
  };
}

Deno.test("deno publish --dry-run passes: no slow types, tests and build script left out", async () => {
  const { code, out } = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assert.equal(code, 0, out);
  const files = [...out.matchAll(/file:\/\/\S+\/sdk\/(\S+)/g)].map((m) => m[1]);
  for (const entry of [...ENTRIES, "README.md", "deno.json", "errors.ts"]) {
    assert.ok(files.includes(entry), `${entry} is published`);
  }
  assert.deepEqual(files.filter((f) => /_test\.|^pack\.ts$/.test(f)), []);
});

Deno.test("every export of every entry point has JSDoc with an @example", async () => {
  const { code, out, stdout } = await deno(["doc", "--json", ...ENTRIES]);
  assert.equal(code, 0, out);
  const doc = JSON.parse(stdout);
  const modules = Object.entries(doc.nodes) as [
    string,
    { symbols: Symbol[] },
  ][];
  // A re-export is a reference to the declaration, found by its location.
  const where = (l: Location) => `${l.filename}:${l.line}`;
  const declared = new Map<string, Declaration>();
  for (const [, node] of modules) {
    for (const symbol of node.symbols) {
      for (const d of symbol.declarations) {
        if (d.kind !== "reference") declared.set(where(d.location), d);
      }
    }
  }
  const missing: string[] = [];
  let count = 0;
  for (const [module, node] of modules) {
    for (const symbol of node.symbols) {
      count++;
      const documented = symbol.declarations.some((d) => {
        const target = d.kind === "reference" && d.def?.target
          ? declared.get(where(d.def.target))
          : d;
        return target?.jsDoc?.doc &&
          target.jsDoc.tags?.some((t) => t.kind === "example");
      });
      if (!documented) {
        missing.push(`${module.split("/").pop()}: ${symbol.name}`);
      }
    }
  }
  assert.ok(count > 40, `only ${count} exports found`);
  assert.deepEqual(missing, [], missing.join("\n"));
});

Deno.test("deno doc --lint finds nothing undocumented or private in the public API", async () => {
  const { code, out } = await deno(["doc", "--lint", ...ENTRIES]);
  assert.equal(code, 0, out);
});

interface Location {
  filename: string;
  line: number;
}

interface Declaration {
  kind: string;
  location: Location;
  jsDoc?: { doc?: string; tags?: { kind: string }[] };
  def?: { target?: Location };
}

interface Symbol {
  name: string;
  declarations: Declaration[];
}
