import { setFlagsFromString } from 'node:v8';
import { DECISIONS } from '../core/decisions.ts';

/**
 * V8's old generation let grow by DECISIONS.memory.heapGrowingPercent between full collections
 * (docs/start-and-memory.md, "Memory"): V8 otherwise lets a small heap grow to several times
 * what was live before collecting it again, ~20 MiB of promoted garbage across two loops under
 * load. Set here, at run time, and not on Node's command line: V8 counts this flag in the hash
 * a code cache is checked against, so on the command line it made the single executable reject
 * its built-in code cache ("Code cache data rejected" on stderr, and a slower start). V8 reads it
 * at each full collection, and its flags are the process's: the worker threads started later
 * get it too. Imported first by src/cli/main.ts, so it is in force before the heap grows.
 */
export const HEAP_GROWTH_FLAG = `--heap-growing-percent=${DECISIONS.memory.heapGrowingPercent}`;

setFlagsFromString(HEAP_GROWTH_FLAG);
