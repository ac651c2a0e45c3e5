import { WattfareError } from "../errors.ts";

/**
 * The one place errors become HTTP: the OpenAI error shape, so every OpenAI
 * client parses it. Anything that is not a `WattfareError` is a bug on our
 * side; it is logged (name and message, never the request) and answered with a
 * bare 500 that reveals nothing.
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof WattfareError) {
    const headers = new Headers({ "content-type": "application/json" });
    if (error.retryAfter !== undefined) {
      headers.set("retry-after", String(error.retryAfter));
    }
    return new Response(
      JSON.stringify({
        error: {
          type: "wattfare_error",
          code: error.code,
          message: error.message,
          param: error.param,
        },
      }),
      { status: error.status, headers },
    );
  }
  console.error(
    JSON.stringify({
      level: "error",
      msg: "unhandled error",
      error: error instanceof Error
        ? `${error.name}: ${error.message}`
        : typeof error,
    }),
  );
  return Response.json({
    error: {
      type: "server_error",
      code: "internal_error",
      message: "Something went wrong on our side; the request changed nothing.",
      param: null,
    },
  }, { status: 500 });
}
