import assert from 'node:assert/strict';

// The JSON types a Go client (the Terraform provider, golangsdk) can parse, checked on answers.

/**
 * 'str' a JSON string, 'int' an integer number, 'num' any number, 'bool' a boolean; a trailing
 * '!' means present and non-empty (the provider refuses or panics otherwise). [shape] is an
 * array of that shape, {..} an object. An absent or null field is a Go zero value: fine
 * unless marked '!'. Fields the provider does not read are not checked.
 */
export type Shape = string | Shape[] | { [field: string]: Shape };

export function typeProblems(value: unknown, shape: Shape, at = '$'): string[] {
  if (typeof shape === 'string') {
    const required = shape.endsWith('!');
    const kind = required ? shape.slice(0, -1) : shape;
    if (value === undefined || value === null) return required ? [`${at}: missing`] : [];
    const ok = kind === 'str' ? typeof value === 'string' && (!required || value !== '')
      : kind === 'int' ? Number.isInteger(value)
        : kind === 'num' ? typeof value === 'number'
          : kind === 'bool' ? typeof value === 'boolean' : false;
    return ok ? [] : [`${at}: ${JSON.stringify(value)} is not ${shape}`];
  }
  if (value === undefined || value === null) return [];
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${at}: not an array`];
    return value.flatMap((item, i) => typeProblems(item, shape[0], `${at}[${i}]`));
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
  return Object.entries(shape).flatMap(([field, s]) => typeProblems((value as Record<string, unknown>)[field], s, `${at}.${field}`));
}

export function assertParses(value: unknown, shape: Shape, what: string): void {
  assert.deepEqual(typeProblems(value, shape), [], `${what}: ${JSON.stringify(value).slice(0, 400)}`);
}
