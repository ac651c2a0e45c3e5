/**
 * An error response in OpenRouter's shape, used for every error returned
 * before a stream starts: `{"error": {"code": <status>, "message", "metadata"}}`.
 */
export function openRouterError(
  status: number,
  message: string,
  metadata: Record<string, unknown> = {},
): Response {
  return Response.json({ error: { code: status, message, metadata } }, {
    status,
  });
}
