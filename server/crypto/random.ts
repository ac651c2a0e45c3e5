/** `bytes` random bytes from the platform CSPRNG, as lowercase hex. */
export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A random identifier of `length` characters from a 32-letter alphabet (5 bits each). */
export function randomId(length: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(length));
  let id = "";
  for (const b of buf) id += ALPHABET[b & 31];
  return id;
}
