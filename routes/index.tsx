/** The service's front page: what this is and where to go next. */
export default function Home(props: { publicUrl: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Wattfare</title>
      </head>
      <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
        <h1>Wattfare</h1>
        <p>
          A consent layer for AI spend: your users fund their own inference,
          within a monthly cap they approve and can revoke at any time.
        </p>
        <p>
          The OpenAI-compatible API lives at{" "}
          <code>{props.publicUrl}/api/v1</code>.
        </p>
      </body>
    </html>
  );
}
