import { h, options, type VNode } from "preact";
import type { AnyComponent } from "./page.ts";

/**
 * Server side of islands: while a page renders, any component registered as
 * an island renders inside `<wattfare-island data-island=… data-props=…>`,
 * and its name is recorded so the page loads that island's script. Its props
 * must be JSON; the browser hydrates it from them.
 */
const names = new Map<AnyComponent, string>();
let used: Set<string> | null = null;
let creatingInner = false;

/** Registers the components of `islands/` by name. */
export function registerIslands(
  islands: Record<string, AnyComponent>,
): void {
  for (const [name, component] of Object.entries(islands)) {
    names.set(component, name);
  }
}

/**
 * Runs a synchronous render and returns what it rendered plus the names of
 * the islands used in it.
 */
export function collectIslands<T>(
  render: () => T,
): { result: T; islands: string[] } {
  used = new Set();
  try {
    const result = render();
    return { result, islands: [...used] };
  } finally {
    used = null;
  }
}

const previous = options.vnode;
options.vnode = (vnode: VNode) => {
  const name = names.get(vnode.type as AnyComponent);
  if (name && used && !creatingInner) {
    const component = vnode.type;
    const props = vnode.props as Record<string, unknown>;
    vnode.type = IslandMarker as typeof vnode.type;
    vnode.props = { name, component, props } as unknown as typeof vnode.props;
  }
  previous?.(vnode);
};

function IslandMarker(
  marker: {
    name: string;
    component: AnyComponent;
    props: Record<string, unknown>;
  },
) {
  used?.add(marker.name);
  const { children: _children, ...json } = marker.props;
  creatingInner = true;
  let inner;
  try {
    inner = h(marker.component, marker.props);
  } finally {
    creatingInner = false;
  }
  return h(
    "wattfare-island",
    { "data-island": marker.name, "data-props": JSON.stringify(json) },
    inner,
  );
}
