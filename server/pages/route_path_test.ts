import assert from "node:assert/strict";
import { routePath } from "./route_path.ts";

Deno.test("route files map to URL patterns", () => {
  assert.equal(routePath("index.tsx"), "/");
  assert.equal(routePath("connect.tsx"), "/connect");
  assert.equal(routePath("dashboard/index.tsx"), "/dashboard");
  assert.equal(routePath("apps/[id].tsx"), "/apps/:id");
  assert.equal(routePath("apps/[id]/usage.tsx"), "/apps/:id/usage");
  assert.equal(routePath("_layout.tsx"), null);
  assert.equal(routePath("dashboard/_middleware.ts"), null);
});
