import { ConfigError, parseConfig } from '../config.ts';
import { LAST_FAILED, LAST_PASSED, parseExpectedHead, readKeptPass, verifyTrail, type Anchor, type Verdict } from '../audit/verify.ts';
import { StartError } from '../root-key.ts';
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
export async function verifyAudit(
  argv: string[], env: Record<string, string | undefined>, out: NodeJS.WritableStream, err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const { storeArgs, expected } = splitExpectedHead(argv);
  const config = parseConfig(storeArgs, env);
  // Not migrated (a read-only role verifies too; an older schema is refused in one line): exit 2, as is a store that does not answer.
  const store = await openExistingStore(config, { migrate: false }).catch((error: unknown) => {
    throw error instanceof ConfigError ? error : new StartError(`cannot open the store: ${firstLine(error)}`);
  });
  try {
    let verdict: Verdict;
    try {
      const kept = readKeptPass(await store.read((tx) => tx.getSetting(LAST_PASSED)));
      if (kept === 'unreadable') out.write('note: the last verification kept in the store\'s settings is unreadable (someone wrote it): not compared\n');
      const anchors = [...expected];
      if (kept !== null && kept !== 'unreadable') {
        anchors.push({ seq: kept.head_seq, hash: kept.head_hash, startSeq: kept.start_seq, source: 'the last verification that passed' });
      }
      verdict = await verifyTrail(store, anchors);
    } catch (error) {
      throw new StartError(`cannot read the store: ${firstLine(error)}`);
    }
    const at = Date.now();
    let code: number;
    let kept: [string, unknown];
    if (verdict.intact) {
      const { checked, before, startSeq, headSeq, headHash } = verdict;
      const earlier = before > 0 ? `; ${before} earlier records, written before the trail was chained, are not covered` : '';
      out.write(`audit trail intact: ${checked} records checked${earlier}\nhead: record ${headSeq} ${headHash}\n`);
      kept = [LAST_PASSED, { at, records: checked, start_seq: startSeq, head_seq: headSeq, head_hash: headHash }];
      code = 0;
    } else {
      out.write(`audit trail broken${verdict.seq === null ? '' : ` at record ${verdict.seq}`}: ${verdict.reason}\n${verdict.checked} records before it are intact\n`);
      kept = [LAST_FAILED, { at, seq: verdict.seq, reason: verdict.reason }];
      code = 1;
    }
    // Best-effort: the verdict stands whether or not the store takes it (a read-only role, a store gone since).
    try {
      await store.write((tx) => tx.putSetting(kept[0], JSON.stringify(kept[1])));
    } catch (error) {
      err.write(`kmsd: the outcome was not kept in the store (${firstLine(error)}): the console and the next run will not see it\n`);
    }
    return code;
  } finally {
    await store.close().catch(() => {});
  }
}

const firstLine = (error: unknown): string => String((error as Error)?.message ?? error).split('\n')[0];
