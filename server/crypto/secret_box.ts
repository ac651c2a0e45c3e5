import { sha256Hex } from "./digest.ts";

/** A secret sealed with AES-GCM under the master key named by `kid`. */
export interface Sealed {
  kid: string;
  iv: Uint8Array;
  data: Uint8Array;
}

/** How long an opened secret stays in memory, and how many at most. */
const OPENED_TTL_MS = 60_000;
const OPENED_MAX = 10_000;

/**
 * Encrypts secrets at rest (funding keys) under the master key. Keys are
 * named by a key id, so sealed values say which master key opens them and
 * the master key can be rotated.
 */
export class SecretBox {
  readonly #keys: Map<string, CryptoKey>;
  readonly #currentKid: string;
  /**
   * Secrets opened in the last minute, by their ciphertext: a busy
   * connection's key is decrypted once a minute instead of per request, and
   * a re-sealed or replaced key is a new ciphertext, so never served stale.
   */
  readonly #opened = new Map<string, { plain: string; until: number }>();

  private constructor(keys: Map<string, CryptoKey>, currentKid: string) {
    this.#keys = keys;
    this.#currentKid = currentKid;
  }

  /** A box sealing with the first key and opening with any of them. */
  static async create(masterKeys: Uint8Array[]): Promise<SecretBox> {
    if (masterKeys.length === 0) throw new RangeError("no master key");
    const keys = new Map<string, CryptoKey>();
    for (const raw of masterKeys) {
      if (raw.length !== 32) throw new RangeError("master keys are 32 bytes");
      const kid = (await sha256Hex(String.fromCharCode(...raw))).slice(0, 16);
      keys.set(
        kid,
        await crypto.subtle.importKey(
          "raw",
          raw as Uint8Array<ArrayBuffer>,
          "AES-GCM",
          false,
          ["encrypt", "decrypt"],
        ),
      );
    }
    return new SecretBox(keys, keys.keys().next().value!);
  }

  /** Encrypts `plaintext` under the current master key. */
  async seal(plaintext: string): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      this.#keys.get(this.#currentKid)!,
      new TextEncoder().encode(plaintext),
    );
    return { kid: this.#currentKid, iv, data: new Uint8Array(data) };
  }

  /** Whether `sealed` is under the current master key (else it wants re-sealing). */
  isCurrent(sealed: Sealed): boolean {
    return sealed.kid === this.#currentKid;
  }

  /** Decrypts a sealed value; throws if its key is unknown or it was altered. */
  async open(sealed: Sealed): Promise<string> {
    // A fresh random IV per seal names the ciphertext.
    const id = `${sealed.kid}:${sealed.data.length}:${latin1(sealed.iv)}`;
    const now = performance.now();
    const hit = this.#opened.get(id);
    if (hit && hit.until > now) return hit.plain;
    const key = this.#keys.get(sealed.kid);
    if (!key) throw new Error(`no master key with id ${sealed.kid}`);
    const plain = new TextDecoder().decode(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: sealed.iv as Uint8Array<ArrayBuffer> },
        key,
        sealed.data as Uint8Array<ArrayBuffer>,
      ),
    );
    if (this.#opened.size >= OPENED_MAX) this.#opened.clear();
    this.#opened.set(id, { plain, until: now + OPENED_TTL_MS });
    return plain;
  }
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}
