import { normalizeOrigin } from "../apps/apps.ts";
import { WattfareError } from "../errors.ts";

/**
 * The origins a developer typed, as the popup will compare them: scheme,
 * host and port only. Anything more (a path, a query) is refused rather than
 * silently cut, so what is registered is what the developer meant.
 */
export function parseOrigins(values: string[]): string[] {
  const origins = values.map((value, i) => {
    const text = value.trim();
    let url: URL | null = null;
    try {
      url = new URL(text);
    } catch {
      // reported below
    }
    if (
      !url || (url.protocol !== "https:" && url.protocol !== "http:") ||
      url.pathname !== "/" || url.search || url.hash || url.username ||
      url.password || text.endsWith("?") || text.endsWith("#")
    ) {
      throw new WattfareError(
        "invalid_request",
        `"${text.slice(0, 100)}" is not an origin like https://acme.com.`,
        { param: `origins.${i}` },
      );
    }
    return normalizeOrigin(text);
  });
  return [...new Set(origins)];
}
