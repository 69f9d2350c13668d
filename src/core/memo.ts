const REMEMBERED = 65_536;

/**
 * Adds an entry to a bounded memo of values that never change once written: when full, the
 * oldest entry goes.
 */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, capacity = REMEMBERED): void {
  if (map.has(key)) return;
  if (map.size >= capacity) map.delete(map.keys().next().value as K);
  map.set(key, value);
}
