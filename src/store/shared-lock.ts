/**
 * A lock shared by the worker threads of one kmsd process (src/cluster.ts), over a
 * SharedArrayBuffer: each thread has its own SQLite writer connection, and they take turns
 * through this lock instead of SQLite's busy handler, which would sleep inside the event
 * loop (stalling every request of that thread) while another thread commits. Waiting is
 * Atomics.waitAsync, so a thread waiting to write keeps answering reads.
 *
 * A ticket lock: threads get the lock in the order they asked for it, so a thread that
 * commits group after group cannot starve another.
 */
export class SharedLock {
  readonly buffer: SharedArrayBuffer;
  // [0]: the next ticket to hand out, [1]: the ticket now holding the lock.
  private readonly cells: Int32Array;
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.buffer = buffer;
    this.cells = new Int32Array(buffer, 0, 2);
  }

  async acquire(): Promise<void> {
    const ticket = Atomics.add(this.cells, 0, 1);
    for (;;) {
      const serving = Atomics.load(this.cells, 1);
      if (serving === ticket) return;
      const wait = Atomics.waitAsync(this.cells, 1, serving);
      if (wait.async) await wait.value;
    }
  }

  release(): void {
    Atomics.add(this.cells, 1, 1);
    Atomics.notify(this.cells, 1);
  }
}
