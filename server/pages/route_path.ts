/**
 * The URL pattern of a file in `routes/`, Fresh-style: `index.tsx` is its
 * folder, `[id].tsx` a parameter, and files starting with `_` are not routes.
 * Returns null for those.
 */
export function routePath(file: string): string | null {
  const parts = file.replace(/\.(tsx|ts)$/, "").split("/");
  if (parts.some((part) => part.startsWith("_"))) return null;
  if (parts.at(-1) === "index") parts.pop();
  const segments = parts.map((part) => {
    const param = /^\[([A-Za-z_][A-Za-z0-9_]*)\]$/.exec(part);
    return param ? `:${param[1]}` : part;
  });
  return "/" + segments.join("/");
}
