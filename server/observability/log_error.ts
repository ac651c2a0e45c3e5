/**
 * Writes one JSON error line to stderr for work that has no response to
 * fail: the error's name and message only (never a stack, which could
 * carry request data), under `msg`.
 */
export function logError(msg: string, error: unknown): void {
  console.error(JSON.stringify({
    level: "error",
    msg,
    error: error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error),
  }));
}
