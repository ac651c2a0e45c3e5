import { useState } from "preact/hooks";
import { post } from "../browser/passkeys.ts";
import type {
  AppUserView,
  DeveloperAppView,
} from "../server/dashboards/developer_apps.ts";
import { dayLabel, dollars } from "../server/dashboards/format.ts";

/** What create and rotate answer: the only moments a secret key exists in the clear. */
interface WithSecret {
  app: DeveloperAppView;
  secretKey: string;
}

/**
 * The developer's apps: register one, copy its secret key the one time it
 * is shown, rotate it, edit origins, and see who connected and what they
 * spent. State lives here so a new secret never needs a reload (which
 * could not show it again).
 */
export default function DevelopersConsole(props: { apps: DeveloperAppView[] }) {
  const [apps, setApps] = useState(props.apps);
  const [secret, setSecret] = useState<WithSecret | null>(null);
  const [registering, setRegistering] = useState(props.apps.length === 0);

  const replace = (app: DeveloperAppView) =>
    setApps((all) => all.map((a) => (a.appId === app.appId ? app : a)));

  return (
    <div data-testid="developers-console">
      <div class="section-head">
        <h2>Your apps</h2>
        {!registering && (
          <button
            type="button"
            class="primary"
            onClick={() => setRegistering(true)}
          >
            Register an app
          </button>
        )}
      </div>
      {registering && (
        <RegisterForm
          onCancel={apps.length ? () => setRegistering(false) : null}
          onCreated={(created) => {
            setApps((all) => [...all, created.app]);
            setSecret(created);
            setRegistering(false);
          }}
        />
      )}
      {apps.length === 0 && !registering && <p class="muted">No apps yet.</p>}
      {apps.map((app) => (
        <AppCard
          key={app.appId}
          app={app}
          secretKey={secret?.app.appId === app.appId ? secret.secretKey : null}
          onChanged={replace}
          onRotated={(rotated) => {
            replace(rotated.app);
            setSecret(rotated);
          }}
          onSecretStored={() => setSecret(null)}
        />
      ))}
    </div>
  );
}

const ORIGINS_EXAMPLE = "https://quill.app\nhttp://localhost:5173";

/** `https://a.com, http://localhost:3000` or one per line → a list. */
function originList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function failureOf(error: unknown): string {
  return error instanceof Error ? error.message : "That did not work.";
}

function RegisterForm(
  props: {
    onCreated: (created: WithSecret) => void;
    onCancel: (() => void) | null;
  },
) {
  const [name, setName] = useState("");
  const [origins, setOrigins] = useState("");
  const [mode, setMode] = useState<"test" | "live">("test");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState("");

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setFailure("");
    try {
      props.onCreated(
        await post("/developers/api/apps", {
          name,
          origins: originList(origins),
          mode,
        }),
      );
    } catch (error) {
      setFailure(failureOf(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card panel register" data-testid="register" onSubmit={submit}>
      <h2>Register an app</h2>
      <label class="stacked">
        <span class="field-name">Name</span>
        <input
          name="name"
          required
          maxLength={100}
          placeholder="Quill"
          value={name}
          onInput={(e) =>
            setName((e.target as HTMLInputElement).value)}
        />
        <span class="hint">Shown to your users in the consent popup.</span>
      </label>
      <label class="stacked">
        <span class="field-name">Origins</span>
        <textarea
          name="origins"
          required
          rows={2}
          placeholder={ORIGINS_EXAMPLE}
          value={origins}
          onInput={(e) =>
            setOrigins((e.target as HTMLTextAreaElement).value)}
        />
        <span class="hint">
          The sites allowed to open the popup for this app, one per line.
        </span>
      </label>
      <fieldset class="modes">
        <legend class="field-name">Mode</legend>
        <label>
          <input
            type="radio"
            name="mode"
            value="test"
            checked={mode === "test"}
            onChange={() =>
              setMode("test")}
          />{" "}
          <strong>Test</strong>{" "}
          <span class="muted">the sandbox upstream; no real money</span>
        </label>
        <label>
          <input
            type="radio"
            name="mode"
            value="live"
            checked={mode === "live"}
            onChange={() => setMode("live")}
          />{" "}
          <strong>Live</strong>{" "}
          <span class="muted">OpenRouter, paid by each user's own funding</span>
        </label>
      </fieldset>
      {failure && <div class="banner banner-error" role="alert">{failure}</div>}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Registering…" : "Register app"}
        </button>
        {props.onCancel && (
          <button type="button" disabled={busy} onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function AppCard(
  props: {
    app: DeveloperAppView;
    secretKey: string | null;
    onChanged: (app: DeveloperAppView) => void;
    onRotated: (rotated: WithSecret) => void;
    onSecretStored: () => void;
  },
) {
  const { app } = props;
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [editing, setEditing] = useState(false);
  const [origins, setOrigins] = useState(app.origins.join("\n"));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState("");

  async function act<T>(
    path: string,
    body: unknown,
    done: (answer: T) => void,
  ) {
    setBusy(true);
    setFailure("");
    try {
      done(await post(`/developers/api/apps/${app.appId}${path}`, body));
    } catch (error) {
      setFailure(failureOf(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <article class="card panel app" data-testid="app" data-app-id={app.appId}>
      <header class="connection-head">
        <div>
          <h2 class="connection-name">{app.name}</h2>
          <p class="muted small">
            Registered{" "}
            {dayLabel(new Date(app.createdAt).toISOString().slice(0, 10))}
          </p>
        </div>
        <span
          class={`pill ${app.mode === "test" ? "pill-test" : "pill-active"}`}
        >
          {app.mode === "test" ? "Test mode" : "Live"}
        </span>
      </header>

      {props.secretKey && (
        <div class="secret-reveal" role="status">
          <p>
            <strong>Copy your secret key now.</strong>{" "}
            Wattfare keeps only its hash, so this is the only time it is shown.
          </p>
          <div class="row">
            <code class="key" data-testid="secret-key">{props.secretKey}</code>
            <CopyButton text={props.secretKey} />
          </div>
          <button type="button" onClick={props.onSecretStored}>
            I've stored it
          </button>
        </div>
      )}

      <dl class="keys">
        <div>
          <dt>Publishable key</dt>
          <dd>
            <code class="key" data-testid="publishable-key">
              {app.publishableKey}
            </code>
            <span class="hint">For the browser; safe to expose.</span>
          </dd>
        </div>
        <div>
          <dt>Secret key</dt>
          <dd>
            <code class="key">sk_{app.mode}_{app.appId}_••••••••</code>
            {confirmRotate
              ? (
                <span class="row confirm-inline">
                  <span class="small">
                    The current secret, and every session signed with it, stops
                    working at once.
                  </span>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => setConfirmRotate(false)}
                  >
                    Cancel
                  </button>
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    onClick={() =>
                      act<WithSecret>("/rotate", {}, (rotated) => {
                        setConfirmRotate(false);
                        props.onRotated(rotated);
                      })}
                  >
                    Rotate now
                  </button>
                </span>
              )
              : (
                <span class="row">
                  <span class="hint">
                    For your backend only. Lost or leaked? Rotate it.
                  </span>
                  <button
                    type="button"
                    class="quiet"
                    onClick={() => setConfirmRotate(true)}
                  >
                    Rotate secret
                  </button>
                </span>
              )}
          </dd>
        </div>
        <div>
          <dt>Origins</dt>
          <dd>
            {editing
              ? (
                <form
                  class="origins-editor"
                  onSubmit={(event) => {
                    event.preventDefault();
                    act<{ app: DeveloperAppView }>(
                      "/origins",
                      { origins: originList(origins) },
                      (answer) => {
                        setEditing(false);
                        props.onChanged(answer.app);
                      },
                    );
                  }}
                >
                  <textarea
                    name="origins"
                    rows={3}
                    value={origins}
                    onInput={(e) =>
                      setOrigins((e.target as HTMLTextAreaElement).value)}
                  />
                  <span class="row">
                    <button type="submit" class="primary" disabled={busy}>
                      Save origins
                    </button>
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => setEditing(false)}
                    >
                      Cancel
                    </button>
                  </span>
                </form>
              )
              : (
                <span class="row">
                  {app.origins.map((origin) => (
                    <code key={origin} class="chip" data-testid="origin">
                      {origin}
                    </code>
                  ))}
                  <button
                    type="button"
                    class="quiet"
                    onClick={() => {
                      setOrigins(app.origins.join("\n"));
                      setEditing(true);
                    }}
                  >
                    Edit origins
                  </button>
                </span>
              )}
          </dd>
        </div>
        <div>
          <dt>Rate limits</dt>
          <dd>
            <form
              class="row"
              data-testid="rate-limits"
              onSubmit={(event) => {
                event.preventDefault();
                const form = new FormData(event.currentTarget);
                const perMinute = (name: string) => {
                  const text = String(form.get(name) ?? "").trim();
                  return text === "" ? null : Number(text);
                };
                act<{ app: DeveloperAppView }>(
                  "/limits",
                  {
                    appRequestsPerMinute: perMinute("app"),
                    connectionRequestsPerMinute: perMinute("connection"),
                  },
                  (answer) =>
                    props.onChanged(answer.app),
                );
              }}
            >
              <label>
                App{" "}
                <input
                  name="app"
                  type="number"
                  min="1"
                  placeholder="default"
                  value={app.rateLimits.appRequestsPerMinute ?? ""}
                />
              </label>
              <label>
                Per user{" "}
                <input
                  name="connection"
                  type="number"
                  min="1"
                  placeholder="default"
                  value={app.rateLimits.connectionRequestsPerMinute ?? ""}
                />
              </label>
              <span class="muted small">requests a minute</span>
              <button type="submit" class="quiet" disabled={busy}>
                Save limits
              </button>
            </form>
          </dd>
        </div>
      </dl>
      {failure && <div class="banner banner-error" role="alert">{failure}</div>}

      <h3>Users</h3>
      <UsersTable users={app.users} />
      <p class="small">
        <a href={`/developers/api/apps/${app.appId}/usage.csv`}>
          Download every request of every user as CSV
        </a>
      </p>
    </article>
  );
}

function CopyButton(props: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(props.text);
          setCopied(true);
        } catch {
          // No clipboard permission: the key stays on screen to copy by hand.
        }
      }}
    >
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

const STATE: Record<AppUserView["state"], string> = {
  active: "Active",
  paused: "Paused",
  revoked: "Revoked",
  disconnected: "Disconnected",
};

function UsersTable(props: { users: AppUserView[] }) {
  if (props.users.length === 0) {
    return (
      <p class="muted small empty">
        No users yet. They appear here once someone approves your app.
      </p>
    );
  }
  return (
    <div class="table-scroll">
      <table class="usage">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">State</th>
            <th scope="col" class="num">Cap</th>
            <th scope="col" class="num">Spent this period</th>
          </tr>
        </thead>
        <tbody>
          {props.users.map((user) => (
            <tr key={user.userId} data-testid="app-user">
              <td>
                <code>{user.userId}</code>
              </td>
              <td>
                <span class={`pill pill-${user.state}`}>
                  {user.pausedBy === "anomaly"
                    ? "Paused (unusual burst)"
                    : STATE[user.state]}
                </span>
              </td>
              <td class="num">
                {user.capUsd === null ? "no cap" : dollars(user.capUsd)}
              </td>
              <td class="num" data-testid="user-spent">
                {dollars(user.spentUsd)}{" "}
                <span class="muted">since {dayLabel(user.periodStart)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
