import { isMainThread } from 'node:worker_threads';

/**
 * Loaded into every test file's process by `npm test` (`--import`): a file still running after
 * FILE_DEADLINE_MS exits with code 1, naming itself. `--test-timeout` fails a test that runs past
 * its bound but leaves the file running for as long as a server or a child process that test
 * started stays open (`--test-force-exit`, which would end it, was tried: 55 tests were missing
 * from that CI run, files ended before all their tests ran). Longer than --test-timeout, so a hung
 * test is named first.
 * The timer is unref'd: it never keeps a finished file alive. process.exit runs no t.after or
 * after hook: the kmsd nodes of startKmsd (test/support/cluster.ts) are killed on 'exit'.
 */
const FILE_DEADLINE_MS = 15 * 60_000;

// Worker threads a test starts get the same --import: only the file's own process is bounded.
if (isMainThread) {
  setTimeout(() => {
    process.stderr.write(`test file still running after ${FILE_DEADLINE_MS / 1000} s, stopped: ${process.argv[1]}\n`);
    process.exit(1);
  }, FILE_DEADLINE_MS).unref();
}
