import { aadBytes } from '../core/data.ts';
import { kms } from '../core/errors.ts';

const MAX_CONTEXT_CHARS = 8192;

/**
 * The additional authenticated data of a data operation: additional_authenticated_data
 * (Huawei, at most 128 bytes), or else encryption_context (the older OTC form: a string map,
 * bound as its JSON with sorted keys, at most 8192 characters).
 */
export function requestAad(body: Record<string, unknown>): Buffer {
  if (body.additional_authenticated_data !== undefined) return aadBytes(body.additional_authenticated_data as string);
  const context = contextObject(body.encryption_context);
  if (context === undefined) return Buffer.alloc(0);
  const canonical = JSON.stringify(Object.fromEntries(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  if (canonical.length > MAX_CONTEXT_CHARS) throw kms('KMS.0208');
  return Buffer.from(canonical, 'utf8');
}

/** encryption_context as an object; a string must hold the JSON of a string map (the Terraform provider sends that). */
function contextObject(context: unknown): Record<string, string> | undefined {
  if (typeof context !== 'string') return context as Record<string, string> | undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(context);
  } catch {
    throw kms('KMS.0208');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw kms('KMS.0208');
  }
  return parsed as Record<string, string>;
}
