/**
 * Validation of `POST /chat/completions` bodies, including the sandbox's own
 * per-request switches in the optional `sandbox` field.
 */
import { z } from "zod";

export const FAULTS = [
  "error_before_first_byte",
  "status_500",
  "drop_mid_stream",
  "error_chunk",
  "hang",
] as const;

export type Fault = typeof FAULTS[number];

const MID_STREAM_FAULTS: readonly Fault[] = ["drop_mid_stream", "error_chunk"];

const switchesSchema = z.strictObject({
  /** Delay before the response starts. */
  latencyMs: z.int().min(0).max(600_000).optional(),
  /** Delay between stream events. */
  chunkDelayMs: z.int().min(0).max(60_000).optional(),
  /** Natural completion length, in tokens (before `max_tokens`). */
  completionTokens: z.int().min(0).max(100_000).optional(),
  fault: z.enum(FAULTS).optional(),
  /** Data events delivered before a mid-stream fault strikes. */
  afterChunks: z.int().min(0).max(1_000_000).optional(),
  /** A recorded stream in the fixtures directory, without `.chunks.txt`. */
  replay: z.string().regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    "must be a fixture name without path separators",
  ).optional(),
  lineEnding: z.enum(["lf", "crlf"]).optional(),
  /** Interleave `: OPENROUTER PROCESSING` comments between events. */
  comments: z.boolean().optional(),
  /** Enqueue the encoded stream in pieces of this many bytes. */
  splitBytes: z.int().min(1).max(1_000_000).optional(),
});

export type SandboxSwitches = z.infer<typeof switchesSchema>;

const contentPart = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
});

const message = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  tool_calls: z.array(z.looseObject({
    function: z.looseObject({ arguments: z.string().optional() }).optional(),
  })).optional(),
});

const tokenLimit = z.int().min(1).nullable().optional();

const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullable().optional(),
  max_tokens: tokenLimit,
  max_completion_tokens: tokenLimit,
  stream_options: z.looseObject({ include_usage: z.boolean().optional() })
    .nullable().optional(),
  tools: z.array(z.record(z.string(), z.unknown())).optional(),
  sandbox: switchesSchema.optional(),
}).superRefine((body, ctx) => {
  const switches = body.sandbox;
  if (!switches) return;
  const problem = (key: keyof SandboxSwitches, message: string) =>
    ctx.addIssue({ code: "custom", path: ["sandbox", key], message });
  const streamOnly = [
    "chunkDelayMs",
    "lineEnding",
    "comments",
    "splitBytes",
    "replay",
  ] as const;
  if (body.stream !== true) {
    for (const key of streamOnly) {
      if (switches[key] !== undefined) problem(key, "requires stream: true");
    }
    if (switches.fault && MID_STREAM_FAULTS.includes(switches.fault)) {
      problem("fault", "requires stream: true");
    }
  }
  if (
    switches.afterChunks !== undefined &&
    !(switches.fault && MID_STREAM_FAULTS.includes(switches.fault))
  ) {
    problem("afterChunks", `requires fault ${MID_STREAM_FAULTS.join(" or ")}`);
  }
  if (switches.replay !== undefined) {
    for (const key of ["fault", "completionTokens"] as const) {
      if (switches[key] !== undefined) {
        problem(key, "cannot be combined with replay");
      }
    }
  }
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** The request, or a readable list of what is wrong with it. */
export function parseChatRequest(
  body: unknown,
): { request: ChatRequest } | { error: string } {
  const result = chatRequestSchema.safeParse(body);
  if (!result.success) {
    return {
      error: result.error.issues
        .map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`)
        .join("; "),
    };
  }
  // Zod rebuilds objects with known keys first; keep the client's own objects
  // so byte counts and hashes follow exactly what was sent.
  return { request: body as ChatRequest };
}
