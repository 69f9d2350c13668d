/**
 * THE HOOK for the data-directory lock. Every offline command that writes a store (restore into
 * a data directory, rotate-root-key) calls this first and releases it when done. The `sec`
 * branch adds a lock a running kmsd holds on its data directory (src/store/data-dir-lock.ts):
 * when it is merged, this function takes that lock (refusing with one line, exit 2, while a
 * kmsd or another offline command holds it) and returns its release. Until then it takes
 * nothing, and the commands' documentation says to stop kmsd first.
 */
export function lockDataDirForOfflineCommand(dataDir: string): () => void {
  void dataDir;
  return () => {};
}
