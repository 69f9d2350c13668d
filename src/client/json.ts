/**
 * JSON as the official Python SDK writes request bodies (simplejson.dumps defaults): ", " and
 * ": " separators, everything outside printable ASCII escaped as \uXXXX. Members stay in the
 * order given. The same value parses to the same thing as JSON.stringify's output; only the
 * bytes differ, and with these bytes a request is byte-for-byte what the Python SDK sends.
 */
export function pythonJson(value: unknown): string {
  return write(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function write(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return write((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : write(v))).join(', ')}]`;
  const members = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .map(([k, v]) => `${JSON.stringify(k)}: ${write(v)}`);
  return `{${members.join(', ')}}`;
}
