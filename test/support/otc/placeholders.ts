/**
 * The first string value of each field name in an answer, depth first: what a recorded request's
 * {{field@n}} stands for (the value of `field` in answer n of the same recording).
 */
export function firstValues(value: unknown, field = '', found = new Map<string, string>()): Map<string, string> {
  if (typeof value === 'string') {
    if (field !== '' && !found.has(field)) found.set(field, value);
  } else if (Array.isArray(value)) {
    for (const item of value) firstValues(item, field, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) firstValues(v, k, found);
  }
  return found;
}

/** Fills {{name}} in recorded text from what the replay has learned. */
export function fill(text: string, known: Map<string, string>): string {
  return text.replace(/\{\{([a-z_]+(?:@\d+)?)\}\}/g, (_, name: string) => {
    const value = known.get(name);
    if (value === undefined) throw new Error(`nothing recorded for {{${name}}}`);
    return value;
  });
}
