/** The upstream went quiet for longer than allowed mid-response. */
export class UpstreamIdleError extends Error {
  override name = "UpstreamIdleError";
}

/**
 * One `reader.read()` that gives up after `ms` of silence: a slow-drip
 * upstream must not hold a request, and its hold, open for ever.
 */
export async function readWithin<T>(
  reader: ReadableStreamDefaultReader<T>,
  ms: number,
): Promise<ReadableStreamReadResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new UpstreamIdleError(`no data from the upstream for ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([reader.read(), idle]);
  } finally {
    clearTimeout(timer);
  }
}
