/**
 * The npm package as a Node developer gets it: pack the tarball, install it
 * with `ai` into a fresh project, type-check code copied from the docs with
 * `tsc`, and run a script under real Node 22 against a local service.
 *
 * Needs `npm` and the npm registry (CI has both); takes about a minute.
 */
import assert from "node:assert/strict";
import { readLedgerView } from "../server/testing/ledger_probe.ts";
import { startTestService } from "../server/testing/test_service.ts";
import { pack } from "./pack.ts";

const NODE_PACKAGE = `node-${Deno.build.os === "darwin" ? "darwin" : "linux"}-${
  Deno.build.arch === "aarch64" ? "arm64" : "x64"
}@22`;
const INSTALL = [
  NODE_PACKAGE,
  "ai@^7.0.173",
  "react@^19.3.1",
  "@types/react@^19.3.0",
  // What a Node project has anyway; the AI SDK's own types need them.
  "@types/node@^22",
  "@types/json-schema@^7",
  "typescript@~6.0.3",
];

/** Type-checked, not run: the docs' snippets and the package's types. */
const CONSUMER_TSX = `
import { generateText, streamText } from "ai";
import {
  type ConnectionStatus,
  toWattfareError,
  Wattfare,
  WattfareAuthError,
  WattfareBudgetError,
  type WattfareUser,
} from "wattfare/server";
import { createWattfare, type GrantResult } from "wattfare/client";
import { useWattfare, WattfareProvider } from "wattfare/react";

declare const app: {
  post(path: string, handler: (c: { var: { userId: string }; json(v: unknown): Response; req: { raw: Request } }) => Response | Promise<Response>): void;
};

// The landing page, verbatim (no "!" after the env variable).
const wf = new Wattfare({ secretKey: process.env.WATTFARE_SECRET_KEY });
app.post("/api/ai-session", (c) =>
  c.json(wf.createSession(c.var.userId, { requestLimit: { monthlyUsd: 10 } }))
);
export function chat(userId: string, prompt: string) {
  const result = streamText({
    model: wf.user(userId).model("anthropic/claude-sonnet-4"), // billed to: them
    prompt,
  });
  return result.toTextStreamResponse();
}

// Getting started.
const wf2 = new Wattfare({ secretKey: process.env.WATTFARE_SECRET_KEY! });
const ai: WattfareUser = wf2.user("user_123");
export async function hello(): Promise<string> {
  const { text, providerMetadata } = await generateText({
    model: ai.model("openai/gpt-4o-mini"),
    prompt: "Say hello.",
  });
  const cost = providerMetadata?.wattfare?.costUsd;
  return text + String(cost);
}
export const status: Promise<ConnectionStatus> = ai.status();
export const handler: (req: Request) => Promise<Response> = wf.sessionHandler({
  getUserId: async (req) => req.headers.get("x-user"),
  limits: { monthlyUsd: 10 },
});
app.post("/api/wattfare-token", (c) => handler(c.req.raw));

// Grants (server).
export async function POST(req: Request) {
  const { grantToken, file } = await req.json();
  const grant = wf.grant(grantToken);
  try {
    const { text } = await generateText({
      model: grant.model("anthropic/claude-sonnet-4"),
      prompt: \`Convert this document to markdown: \${file}\`,
    });
    return Response.json({ result: text });
  } catch (err) {
    const e = toWattfareError(err);
    if (e?.code === "grant_invalid") {
      return Response.json({ error: "grant_used" }, { status: 402 });
    }
    if (e instanceof WattfareBudgetError || e instanceof WattfareAuthError) {
      return Response.json({ error: e.message }, { status: e.status });
    }
    throw err;
  }
}

// Grants (browser).
const client = createWattfare({
  publishableKey: "pk_live_…",
  session: "/api/wattfare-token",
});
declare const convertBtn: { onclick: null | (() => void) };
declare const selectedFile: string;
convertBtn.onclick = async () => {
  const result: GrantResult | null = await client.requestGrant({ requests: 1, maxUsd: 0.50 });
  if (!result) return;
  await fetch("/api/convert", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ grantToken: result.grantToken, file: selectedFile }),
  });
};

// React.
declare function getToken(): Promise<string>;
function App() {
  const { connect, connected, remainingUsd, loading, error, refresh, disconnect } = useWattfare();
  if (loading) return <p>Loading…</p>;
  if (error) return <button onClick={() => refresh()}>Retry</button>;
  if (!connected) return <button onClick={connect}>Connect AI budget</button>;
  return <p onClick={() => disconnect()}>{remainingUsd}</p>;
}
export function ConvertButton({ file }: { file: string }) {
  const { requestGrant } = useWattfare();
  async function handleClick() {
    const result = await requestGrant({ requests: 1, maxUsd: 0.50 });
    if (!result) return;
    await fetch("/api/convert", { method: "POST", body: JSON.stringify({ grantToken: result.grantToken, file }) });
  }
  return <button onClick={handleClick}>Convert with AI</button>;
}
export const root = (
  <WattfareProvider publishableKey="pk_live_…" session={getToken}>
    <App />
  </WattfareProvider>
);

// The types are real, not "any".
// @ts-expect-error session is required
createWattfare({ publishableKey: "pk_live_…" });
// @ts-expect-error model() takes a model id
ai.model(42);
// @ts-expect-error status is a promise
export const wrong: ConnectionStatus = ai.status();
`;

/** Run under Node 22 against the local service. */
const RUN_MJS = `
import { generateText, streamText } from "ai";
import { toWattfareError, Wattfare, WattfareNotConnectedError } from "wattfare/server";
import { createWattfare } from "wattfare/client";
import { useWattfare, WattfareProvider } from "wattfare/react";

const baseUrl = process.env.WATTFARE_URL;
const wf = new Wattfare({ secretKey: process.env.WATTFARE_SECRET_KEY, baseUrl });
const ai = wf.user("node_user");
const before = await ai.status();
const generated = await generateText({ model: ai.model("openai/gpt-4o-mini"), prompt: "Hello from Node." });
const streamed = streamText({ model: ai.model("openai/gpt-4o-mini"), prompt: "Stream from Node." });
const streamedText = await streamed.text;
const streamedCost = (await streamed.providerMetadata)?.wattfare?.costUsd;
let refusal = null;
try {
  await generateText({ model: wf.user("ghost").model("openai/gpt-4o-mini"), prompt: "Hi" });
} catch (err) {
  const e = toWattfareError(err);
  refusal = { code: e?.code, typed: e instanceof WattfareNotConnectedError };
}
const session = wf.createSession("node_user", { requestLimit: { monthlyUsd: 10 } });
const browser = createWattfare({ publishableKey: process.env.WATTFARE_PK, session: async () => session, baseUrl });
console.log(JSON.stringify({
  node: process.version,
  before,
  text: generated.text,
  cost: generated.providerMetadata?.wattfare?.costUsd,
  streamedText,
  streamedCost,
  refusal,
  clientStatus: await browser.status(),
  react: typeof WattfareProvider === "function" && typeof useWattfare === "function",
}));
`;

Deno.test({
  name:
    "the npm tarball works in a Node 22 project: imports resolve, types check, generateText runs",
  // Child processes and the service's settlements outlive single awaits.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using service = await startTestService();
    const app = await service.createApp();
    await service.connect(app.secretKey, "node_user", 1);
    const dir = await Deno.makeTempDir({ prefix: "wattfare-node-" });
    try {
      const tarball = await pack(`${dir}/dist`);
      const project = `${dir}/project`;
      await Deno.mkdir(`${project}/src`, { recursive: true });
      await Deno.writeTextFile(
        `${project}/package.json`,
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      );
      await run(
        "npm",
        [
          "install",
          "--no-audit",
          "--no-fund",
          "--loglevel=error",
          ...INSTALL,
          tarball,
        ],
        project,
        300_000,
      );
      const node = `${project}/node_modules/${
        NODE_PACKAGE.replace(/@22$/, "")
      }/bin/node`;

      // The package as installed: exports, peer and dependencies.
      const manifest = JSON.parse(
        await Deno.readTextFile(
          `${project}/node_modules/wattfare/package.json`,
        ),
      );
      assert.deepEqual(Object.keys(manifest.exports), [
        "./server",
        "./client",
        "./react",
      ]);
      assert.ok(manifest.peerDependencies.react);
      assert.equal(manifest.peerDependenciesMeta.react.optional, true);
      assert.ok(!("react" in manifest.dependencies));
      assert.ok(manifest.dependencies.ai);
      assert.ok(manifest.dependencies["@ai-sdk/openai-compatible"]);
      const files: string[] = [];
      for await (
        const entry of Deno.readDir(`${project}/node_modules/wattfare`)
      ) {
        files.push(entry.name);
      }
      assert.ok(!files.some((f) => f.includes("_test")), files.join(" "));
      for (const entry of ["server", "client", "react"]) {
        assert.ok(
          files.includes(`${entry}.js`) && files.includes(`${entry}.d.ts`),
        );
      }
      assert.ok(files.includes("README.md"));

      // Types: the docs' code compiles against the package's .d.ts.
      await Deno.writeTextFile(`${project}/src/consumer.tsx`, CONSUMER_TSX);
      await Deno.writeTextFile(
        `${project}/tsconfig.json`,
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            lib: ["ES2023", "DOM", "DOM.Iterable"],
            jsx: "react-jsx",
            types: ["node"],
            skipLibCheck: false,
          },
          include: ["src"],
        }),
      );
      await run(
        node,
        [
          "node_modules/typescript/bin/tsc",
          "-p",
          "tsconfig.json",
        ],
        project,
        120_000,
      );

      // Runtime: real Node 22, the local service.
      await Deno.writeTextFile(`${project}/run.mjs`, RUN_MJS);
      const out = await run(node, ["run.mjs"], project, 60_000, {
        WATTFARE_URL: service.url,
        WATTFARE_SECRET_KEY: app.secretKey,
        WATTFARE_PK: app.publishableKey,
      });
      const result = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.match(result.node, /^v22\./);
      assert.deepEqual(result.before, {
        connected: true,
        limits: { monthlyUsd: 1 },
        usage: { monthlyUsd: 0 },
        remainingUsd: 1,
      });
      assert.ok(result.text.length > 0);
      assert.ok(result.streamedText.length > 0);
      await service.settled();
      const view = await readLedgerView(service, app.appId, "node_user");
      assert.equal(view.entries.length, 2);
      // Each call's reported cost is what the ledger charged for it.
      assert.deepEqual(
        [result.cost, result.streamedCost].sort(),
        view.entries.map((e) => Number(e.costNano) / 1e9).sort(),
      );
      assert.deepEqual(result.refusal, { code: "not_connected", typed: true });
      assert.equal(result.clientStatus.connected, true);
      assert.equal(result.react, true);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd,
    env: { ...env, npm_config_update_notifier: "false" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited ${code}:\n${text}\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return text;
}
