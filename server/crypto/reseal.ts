import type { Sealed, SecretBox } from "./secret_box.ts";

/**
 * Where sealed secrets live: each prefix, and how to read and replace the
 * sealed values in one of its records.
 */
interface SealedField<T> {
  prefix: Deno.KvKey;
  read(record: T): Sealed[];
  write(record: T, sealed: Sealed[]): T;
}

/**
 * After a master-key rotation, seals every secret sealed under an older key
 * again under the current one, record by record, each in a commit that
 * checks the record did not change meanwhile. The service keeps serving:
 * until a record is done, the older key (still configured) opens it.
 * Returns how many records were re-sealed.
 */
export async function resealAll(
  kv: Deno.Kv,
  box: SecretBox,
  // deno-lint-ignore no-explicit-any
  fields: SealedField<any>[],
): Promise<number> {
  let count = 0;
  for (const field of fields) {
    for await (const entry of kv.list({ prefix: field.prefix })) {
      const sealed = field.read(entry.value);
      if (sealed.every((s) => box.isCurrent(s))) continue;
      const fresh = await Promise.all(
        sealed.map(async (s) =>
          box.isCurrent(s) ? s : await box.seal(await box.open(s))
        ),
      );
      const result = await kv.atomic().check(entry)
        .set(entry.key, field.write(entry.value, fresh)).commit();
      if (result.ok) count++;
    }
  }
  return count;
}
