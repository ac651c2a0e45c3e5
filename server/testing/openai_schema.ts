/**
 * Validates values against component schemas of OpenAI's published OpenAPI
 * document (`../shared/fixtures/openai-openapi.yaml`), so tests check our wire
 * format against the real contract rather than against our own assumptions.
 *
 * ```ts
 * assertMatchesSchema("CreateChatCompletionResponse", await res.json());
 * ```
 */
import { parse } from "yaml";
import {
  Ajv2020,
  type ErrorObject,
  type ValidateFunction,
} from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const DOCUMENT_URL = new URL(
  "../../../shared/fixtures/openai-openapi.yaml",
  import.meta.url,
);
// Any absolute URI works as the document's id; refs resolve against it.
const DOCUMENT_ID = "https://wattfare.invalid/openai-openapi.json";

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

/** Throws an Error listing every schema violation if `value` does not match. */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = validatorFor(name);
  if (validate(value)) return;
  const errors = (validate.errors ?? []).map(describe).join("\n  ");
  throw new Error(
    `value does not match OpenAI schema ${name}:\n  ${errors}\nvalue: ${
      JSON.stringify(value)
    }`,
  );
}

function validatorFor(name: string): ValidateFunction {
  let validate = validators.get(name);
  if (validate) return validate;
  const instance = ajv ??= load();
  validate = instance.getSchema(
    `${DOCUMENT_ID}#/components/schemas/${encodeURIComponent(name)}`,
  );
  if (!validate) throw new Error(`OpenAI schema ${name} not found`);
  validators.set(name, validate);
  return validate;
}

function load(): Ajv2020 {
  const document = parse(Deno.readTextFileSync(DOCUMENT_URL));
  normalizeNullable(document);
  // The document carries OpenAPI annotations (x-*, discriminator, example)
  // that are not JSON Schema keywords: strict mode would refuse them.
  const instance = new Ajv2020({ strict: false, allErrors: true });
  // ajv-formats is CommonJS: Deno types its default import as the module
  // namespace, whose `default` is the plugin (and is at run time too).
  addFormats.default(instance);
  // OpenAI-specific formats: the `type` next to them already constrains them.
  instance.addFormat("unixtime", true);
  instance.addFormat("png", true);
  instance.addSchema(document, DOCUMENT_ID, undefined, false);
  return instance;
}

/**
 * The document is labelled OpenAPI 3.1 but still uses 3.0's `nullable` in
 * places; JSON Schema 2020-12 has no such keyword, so rewrite it as a union
 * with `null` (also inside an `enum`, which would otherwise reject null).
 */
function normalizeNullable(node: unknown): unknown {
  if (Array.isArray(node)) {
    node.forEach((item, i) => node[i] = normalizeNullable(item));
    return node;
  }
  if (node === null || typeof node !== "object") return node;
  const schema = node as Record<string, unknown>;
  for (const [key, child] of Object.entries(schema)) {
    schema[key] = normalizeNullable(child);
  }
  if (!("nullable" in schema) || typeof schema.nullable !== "boolean") {
    return schema;
  }
  const nullable = schema.nullable;
  delete schema.nullable;
  if (!nullable) return schema;
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) {
    schema.enum.push(null);
  }
  if (typeof schema.type === "string") {
    schema.type = [schema.type, "null"];
    return schema;
  }
  return { anyOf: [schema, { type: "null" }] };
}

function describe(error: ErrorObject): string {
  const at = error.instancePath === "" ? "(root)" : error.instancePath;
  return `${at} ${error.message ?? error.keyword} ${
    JSON.stringify(error.params)
  }`;
}
