import assert from "node:assert/strict";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { useWattfare, WattfareProvider } from "./react.tsx";

const PK = "pk_test_0123456789abcdef";

function Probe() {
  const state = useWattfare();
  return createElement(
    "output",
    null,
    JSON.stringify({
      loading: state.loading,
      connected: state.connected,
      status: state.status,
      remainingUsd: state.remainingUsd,
      error: state.error,
      functions: [
        "connect",
        "requestGrant",
        "refresh",
        "disconnect",
      ].filter((name) =>
        typeof state[name as keyof typeof state] === "function"
      ),
    }),
  );
}

Deno.test("server rendering shows the loading state and touches no network or window", () => {
  const realFetch = globalThis.fetch;
  let fetched = 0;
  globalThis.fetch = () => {
    fetched++;
    return Promise.reject(new Error("no network during SSR"));
  };
  try {
    const html = renderToString(
      createElement(WattfareProvider, {
        publishableKey: PK,
        session: () => Promise.resolve("token"),
        baseUrl: "http://localhost:8000",
      }, createElement(Probe)),
    );
    const state = JSON.parse(
      /<output>(.*)<\/output>/.exec(html)![1].replaceAll("&quot;", '"'),
    );
    assert.deepEqual(state, {
      loading: true,
      connected: false,
      status: null,
      remainingUsd: null,
      error: null,
      functions: ["connect", "requestGrant", "refresh", "disconnect"],
    });
    assert.equal(fetched, 0);
  } finally {
    globalThis.fetch = realFetch;
  }
});

Deno.test("useWattfare outside a provider says so", () => {
  assert.throws(
    () => renderToString(createElement(Probe)),
    /useWattfare\(\) must be called inside <WattfareProvider>/,
  );
});

Deno.test("a bad publishable key fails while rendering the provider", () => {
  assert.throws(
    () =>
      renderToString(
        createElement(WattfareProvider, {
          publishableKey: "nope",
          session: "/t",
        }),
      ),
    /publishableKey/,
  );
});

Deno.test("the provider and hook also run on Preact through preact/compat", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sdk = new URL(".", import.meta.url);
    await Deno.writeTextFile(
      `${dir}/import_map.json`,
      JSON.stringify({
        imports: {
          react: "npm:preact@11.2.0/compat",
          "preact": "npm:preact@11.2.0",
          "preact/": "npm:/preact@11.2.0/",
          "preact-render-to-string": "npm:preact-render-to-string@6.8.2",
        },
      }),
    );
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `
import { createElement } from "preact/compat";
import { renderToString } from "preact-render-to-string";
import { useWattfare, WattfareProvider } from "${new URL("react.tsx", sdk)}";
function Probe() {
  const { loading, connected } = useWattfare();
  return createElement("output", null, JSON.stringify({ loading, connected }));
}
console.log(renderToString(createElement(WattfareProvider, { publishableKey: "${PK}", session: "/t" }, createElement(Probe))));
`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--no-lock",
        "--import-map",
        `${dir}/import_map.json`,
        "--allow-read",
        `${dir}/main.ts`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.match(
      out,
      /<output>\{&quot;loading&quot;:true,&quot;connected&quot;:false\}<\/output>/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
