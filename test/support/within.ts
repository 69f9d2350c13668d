/** Resolves once `done` does, or rejects after `ms` with what `why` says then (a CI run must not hang on it). */
export function within<T>(done: Promise<T>, ms: number, why: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why())), ms)));
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}
