/** @jsxImportSource react */
import { createRoot } from "react-dom/client";
import { type FormEvent, useState } from "react";
import { useWattfare, WattfareProvider } from "wattfare/react";

interface Config {
  publishableKey: string;
  wattfareUrl: string;
}

interface Message {
  role: "user" | "assistant";
  content: string;
}

type Notice =
  | { kind: "budget_exceeded" }
  | { kind: "error"; message: string }
  | null;

function Chat() {
  const {
    connect,
    connected,
    status,
    remainingUsd,
    loading,
    refresh,
    disconnect,
  } = useWattfare();
  const [messages, setMessages] = useState<Message[]>([]);
  const [draft, setDraft] = useState("");
  const [streaming, setStreaming] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  if (!status && loading) {
    return <p className="muted" data-state="loading">Loading…</p>;
  }

  if (!connected) {
    return (
      <section className="panel" data-state="not-connected">
        <h2>Bring your own AI budget</h2>
        <p className="muted">
          Quill runs on your AI budget, within a monthly cap you choose. You can
          see what you spend and revoke access at any time.
        </p>
        <button
          type="button"
          className="primary"
          onClick={connect}
          disabled={loading}
        >
          Connect AI budget
        </button>
      </section>
    );
  }

  const cap = status?.limits?.monthlyUsd ?? null;
  const used = status?.usage.monthlyUsd ?? 0;

  async function send(event: FormEvent) {
    event.preventDefault();
    const text = draft.trim();
    if (!text || streaming) return;
    const thread: Message[] = [...messages, { role: "user", content: text }];
    setMessages([...thread, { role: "assistant", content: "" }]);
    setDraft("");
    setNotice(null);
    setStreaming(true);
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: thread }),
      });
      const reader = response.body!.pipeThrough(new TextDecoderStream())
        .getReader();
      let buffered = "";
      let reply = "";
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += value;
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines.filter(Boolean)) {
          const event = JSON.parse(line);
          if (event.type === "text") {
            reply += event.text;
            setMessages([...thread, { role: "assistant", content: reply }]);
          } else if (event.type === "error") {
            setMessages(
              reply
                ? [...thread, { role: "assistant", content: reply }]
                : thread,
            );
            if (event.code === "budget_exceeded") {
              setNotice({ kind: "budget_exceeded" });
            } else if (
              event.code !== "not_connected" && event.code !== "revoked"
            ) {
              setNotice({ kind: "error", message: event.message });
            }
          }
        }
      }
    } catch {
      setNotice({ kind: "error", message: "The connection broke; try again." });
    } finally {
      setStreaming(false);
      // The spend (or a revocation) shows in the budget at once.
      await refresh();
    }
  }

  return (
    <section className="panel" data-state="connected">
      <div className="budget">
        <div>
          <strong data-testid="remaining">
            {remainingUsd === null
              ? "No cap"
              : `$${remainingUsd.toFixed(6)} left`}
          </strong>
          <span className="muted">
            {cap === null
              ? " (test mode, uncapped)"
              : ` of $${cap.toFixed(2)} this month`}
          </span>
        </div>
        <button type="button" className="link" onClick={disconnect}>
          Disconnect
        </button>
      </div>
      {cap !== null && (
        <div className="bar" aria-hidden="true">
          <div
            className="bar-fill"
            style={{ width: `${Math.min(100, (used / cap) * 100)}%` }}
          />
        </div>
      )}
      <ol className="thread" data-testid="thread">
        {messages.map((message, i) => (
          <li key={i} className={message.role} data-role={message.role}>
            {message.content ||
              (streaming && i === messages.length - 1 ? "…" : "")}
          </li>
        ))}
      </ol>
      {notice?.kind === "budget_exceeded" && (
        <div className="notice" role="alert" data-state="budget-exceeded">
          You've used this month's AI budget. Raise your cap in Wattfare, or
          wait for next month's reset.
        </div>
      )}
      {notice?.kind === "error" && (
        <div className="notice" role="alert">{notice.message}</div>
      )}
      <form onSubmit={send} className="composer">
        <input
          name="message"
          value={draft}
          onChange={(e) => setDraft((e.target as HTMLInputElement).value)}
          placeholder="Ask anything…"
          autoComplete="off"
        />
        <button
          type="submit"
          className="primary"
          disabled={streaming || !draft.trim()}
        >
          Send
        </button>
      </form>
    </section>
  );
}

/** A one-shot tool: a grant of one request, no connection needed. */
function Rewrite() {
  const { requestGrant } = useWattfare();
  const [text, setText] = useState("");
  const [grantToken, setGrantToken] = useState<string | null>(null);
  const [result, setResult] = useState("");
  const [state, setState] = useState<
    "idle" | "working" | "done" | "used_up" | "denied"
  >(
    "idle",
  );

  async function run(token: string) {
    setState("working");
    const response = await fetch("/api/rewrite", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grantToken: token, text }),
    });
    if (response.status === 402) {
      setState("used_up");
      return;
    }
    setResult((await response.json()).text);
    setState("done");
  }

  async function rewriteWithNewGrant() {
    const grant = await requestGrant({ requests: 1, maxUsd: 0.05 });
    if (!grant) {
      setState("denied");
      return;
    }
    setGrantToken(grant.grantToken);
    await run(grant.grantToken);
  }

  return (
    <section className="panel" data-state={`rewrite-${state}`}>
      <h2>Rewrite a paragraph</h2>
      <p className="muted">
        One request, approved just for this. No account needed.
      </p>
      <textarea
        name="paragraph"
        value={text}
        onChange={(e) => setText((e.target as HTMLTextAreaElement).value)}
        placeholder="Paste a paragraph…"
      />
      <div className="row">
        <button
          type="button"
          className="primary"
          disabled={!text.trim() || state === "working"}
          onClick={rewriteWithNewGrant}
        >
          Rewrite with AI
        </button>
        {grantToken && (
          <button
            type="button"
            disabled={state === "working"}
            onClick={() => run(grantToken)}
          >
            Rewrite again with the same grant
          </button>
        )}
      </div>
      {state === "done" && (
        <blockquote data-testid="rewrite-result">{result}</blockquote>
      )}
      {state === "used_up" && (
        <div className="notice" role="alert">
          That grant is used up. Approve a new one to rewrite again.
        </div>
      )}
      {state === "denied" && (
        <p className="muted">No grant was approved; nothing ran.</p>
      )}
    </section>
  );
}

function App(props: Config) {
  return (
    <WattfareProvider
      publishableKey={props.publishableKey}
      session="/api/wattfare-token"
      baseUrl={props.wattfareUrl}
    >
      <header className="top">
        <span className="logo">Quill</span>
        <span className="muted">an example app on Wattfare</span>
      </header>
      <main className="layout">
        <Chat />
        <Rewrite />
      </main>
    </WattfareProvider>
  );
}

const root = document.getElementById("root")!;
createRoot(root).render(<App {...JSON.parse(root.dataset.config!)} />);
