import { h, hydrate } from "preact";
import type { AnyComponent } from "./page.ts";

/** Browser side of islands: hydrates every marker of `name` from its JSON props. */
export function hydrateIslands(
  name: string,
  component: AnyComponent,
): void {
  for (
    const marker of document.querySelectorAll(
      `wattfare-island[data-island="${name}"]`,
    )
  ) {
    const props = JSON.parse(marker.getAttribute("data-props") ?? "{}");
    hydrate(h(component, props), marker);
  }
}
