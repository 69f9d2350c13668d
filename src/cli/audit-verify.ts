import { parseConfig } from '../config.ts';
import { LAST_FAILED, LAST_PASSED, verifyTrail } from '../audit/verify.ts';
import { openExistingStore } from './audit.ts';

/**
 * `kmsd audit verify --data-dir DIR | --store URL`: checks the audit trail's hash chain
 * (src/audit/verify.ts) without the root key. Exits 0 printing how many records it checked and
 * the head it reached, or 1 naming the first bad record. The outcome is kept in the store's
 * settings (outside the trail), for the console to show when verification last passed.
 */
export async function verifyAudit(argv: string[], env: Record<string, string | undefined>, out: NodeJS.WritableStream): Promise<number> {
  const store = await openExistingStore(parseConfig(argv, env));
  try {
    const verdict = await verifyTrail(store);
    const at = Date.now();
    if (verdict.intact) {
      const { checked, before, startSeq, headSeq, headHash } = verdict;
      const earlier = before > 0 ? `; ${before} earlier records, written before the trail was chained, are not covered` : '';
      out.write(`audit trail intact: ${checked} records checked${earlier}\nhead: record ${headSeq} ${headHash}\n`);
      const passed = { at, records: checked, start_seq: startSeq, head_seq: headSeq, head_hash: headHash };
      await store.write((tx) => tx.putSetting(LAST_PASSED, JSON.stringify(passed)));
      return 0;
    }
    out.write(`audit trail broken${verdict.seq === null ? '' : ` at record ${verdict.seq}`}: ${verdict.reason}\n${verdict.checked} records before it are intact\n`);
    await store.write((tx) => tx.putSetting(LAST_FAILED, JSON.stringify({ at, seq: verdict.seq, reason: verdict.reason })));
    return 1;
  } finally {
    await store.close();
  }
}
