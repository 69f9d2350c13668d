// A process that takes data-directory locks for the tests of src/store/data-dir-lock.ts:
//   lock-holder.ts hold <dir> <what>   takes the lock, prints "held" (or the refusal), holds it until stdin ends or it is killed
//   lock-holder.ts race                for each line of stdin (a dir), tries it: prints "took" (and holds it until stdin ends) or the refusal
import { createInterface } from 'node:readline';
import { lockDataDir } from '../../src/store/data-dir-lock.ts';

const [mode, ...args] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
const held: Array<{ release(): void }> = [];
lines.on('close', () => {
  for (const lock of held) lock.release();
  process.exit(0);
});
if (mode === 'hold') {
  try {
    held.push(lockDataDir(args[0], args[1]));
    process.stdout.write('held\n');
  } catch (error) {
    process.stdout.write(`refused: ${(error as Error).message}\n`);
  }
} else {
  lines.on('line', (dir) => {
    try {
      held.push(lockDataDir(dir, 'race'));
      process.stdout.write('took\n');
    } catch (error) {
      process.stdout.write(`refused: ${(error as Error).message}\n`);
    }
  });
}
