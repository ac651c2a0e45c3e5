import type { PageProps } from "../server/pages/page.ts";

/** The page's title. */
export const title = "Wattfare: users fund their own AI";

/** The service's front page: what this is and where to go next. */
export default function Home(props: PageProps) {
  const api = `${props.url.origin}/api/v1`;
  return (
    <div class="page narrow">
      <h1>Wattfare</h1>
      <p class="lead">
        A consent layer for AI spend: your users fund their own inference,
        within a monthly cap they approve and can revoke at any time.
      </p>
      <p>
        The OpenAI-compatible API lives at <code>{api}</code>.
      </p>
    </div>
  );
}
