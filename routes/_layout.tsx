import type { ComponentChildren } from "preact";

/** The HTML shell of every page. */
export default function Layout(props: {
  title: string;
  children: ComponentChildren;
  scripts: string[];
  styles: string[];
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        {props.styles.map((href) => (
          <link key={href} rel="stylesheet" href={href} />
        ))}
        {props.scripts.map((src) => (
          <script
            key={src}
            type="module"
            src={src}
          />
        ))}
      </head>
      <body>{props.children}</body>
    </html>
  );
}
