/**
 * `deno task build`: what a deploy needs made ahead of time. Deno Deploy
 * runs no subprocesses, so the islands are bundled here, into
 * `.build/islands/`, and the service loads them from there.
 */
import { bundleIslands, PREBUILT_DIR } from "./island_assets.ts";

await Deno.remove(PREBUILT_DIR, { recursive: true }).catch(() => {});
const { entries, files } = await bundleIslands(PREBUILT_DIR);
console.log(
  `built ${entries.size} island(s), ${files.size} file(s) into ${PREBUILT_DIR.pathname}`,
);
