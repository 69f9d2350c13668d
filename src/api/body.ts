import { kms } from '../core/errors.ts';
import { EMPTY_IS_A_VALUE } from './fields.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns a raw KMS request body into the object the schema checks: strict UTF-8, JSON, an
 * object at the top. An absent or empty body is {} (so a missing field is reported as
 * missing). A field given as "" is dropped, because real clients send "" for "not given"
 * (the official list-grants example does), except where "" is a value of its own.
 */
export function parseKmsBody(raw: Buffer | undefined): Record<string, unknown> {
  if (raw === undefined || raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(raw));
  } catch {
    throw kms('KMS.0202');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw kms('KMS.0202');
  const members = parsed as Record<string, unknown>;
  // JSON.parse defines every member as an own data property (a member named "__proto__"
  // included, which stays a plain unknown field), so the parsed object is used as it is
  // unless a "" must be dropped.
  for (const name in members) {
    if (members[name] === '' && !EMPTY_IS_A_VALUE.has(name)) return withoutEmpty(members);
  }
  return members;
}

function withoutEmpty(members: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(members)) {
    if (value === '' && !EMPTY_IS_A_VALUE.has(name)) continue;
    // defineProperty: "__proto__" must stay a plain field, never become the prototype.
    Object.defineProperty(body, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return body;
}
