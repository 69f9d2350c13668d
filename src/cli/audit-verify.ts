import { ConfigError, parseConfig } from '../config.ts';
import { LAST_FAILED, LAST_PASSED, parseExpectedHead, readKeptPass, verifyTrail, type Anchor } from '../audit/verify.ts';
import { openExistingStore } from './audit.ts';

/** Takes `--expect-head SEQ:HASH` out of the arguments (the rest name the store). */
function splitExpectedHead(argv: string[]): { storeArgs: string[]; expected: Anchor[] } {
  const storeArgs: string[] = [];
  const expected: Anchor[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--expect-head=') ? ['--expect-head', argv[i].slice('--expect-head='.length)] : [argv[i], undefined];
    if (flag !== '--expect-head') {
      storeArgs.push(argv[i]);
      continue;
    }
    const value = inline ?? argv[++i];
    const anchor = value === undefined ? null : parseExpectedHead(value);
    if (!anchor) throw new ConfigError(`--expect-head must be SEQ:HASH (a record's seq and its 64 hex digits, as "head: record SEQ HASH" printed them), got "${value ?? ''}"`);
    expected.push(anchor);
  }
  return { storeArgs, expected };
}

/**
 * `kmsd audit verify --data-dir DIR | --store URL [--expect-head SEQ:HASH]`: checks the audit
 * trail's hash chain (src/audit/verify.ts) without the root key. Exits 0 printing how many records
 * it checked and the head it reached, or 1 naming the first bad record. The head the last passing
 * run reached (kept in the store's settings) and any --expect-head must still be in the chain,
 * unchanged, at or before its head. The outcome is kept in the store's settings (outside the
 * trail), for the console and the next run.
 */
export async function verifyAudit(argv: string[], env: Record<string, string | undefined>, out: NodeJS.WritableStream): Promise<number> {
  const { storeArgs, expected } = splitExpectedHead(argv);
  const store = await openExistingStore(parseConfig(storeArgs, env));
  try {
    const kept = readKeptPass(await store.read((tx) => tx.getSetting(LAST_PASSED)));
    if (kept === 'unreadable') out.write('note: the last verification kept in the store\'s settings is unreadable (someone wrote it): not compared\n');
    const anchors = [...expected];
    if (kept !== null && kept !== 'unreadable') {
      anchors.push({ seq: kept.head_seq, hash: kept.head_hash, startSeq: kept.start_seq, source: 'the last verification that passed' });
    }
    const verdict = await verifyTrail(store, anchors);
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
