import { chmodSync, closeSync, constants, fstatSync, ftruncateSync, openSync, statSync, writeSync, type Stats } from 'node:fs';
import { DECISIONS } from '../core/decisions.ts';
import { kms } from '../core/errors.ts';
import type { ChainedAuditEvent } from './chain.ts';
import { auditLine } from './line.ts';

/**
 * `--audit-log FILE`: every audit record is also appended to FILE as one JSON line with its
 * place in the chain (prev_hash, hash), for a SIEM to ship. The line is written inside the
 * transaction that writes the record, before its commit, so before the answer leaves: when the
 * line cannot be written (a full disk, a file size limit, an I/O error) the transaction rolls
 * back and the request is refused (DECISIONS.auditLogUnwritable: 500 KMS.0102) rather than done without its line. A line whose
 * transaction then fails to commit stays in the file (its hash never appears in the store):
 * a SIEM may hold a record of an attempt that did not happen, never miss one that did.
 *
 * A named pipe or a socket is refused at start (a stalled reader would block the write, and the
 * whole event loop with it); the file is opened O_NONBLOCK, so any other device that cannot take a
 * line at once answers EAGAIN, which refuses the request like a full disk.
 *
 * Each write is one write(2) of a whole line on a file opened O_APPEND, so the event loops of a
 * node can share the file. A line the disk took only part of is cut off again, so the file
 * holds whole lines only. Lines are written through the page cache (no fsync per record).
 */
/** A named pipe or a socket: refused (a reader that stalls would block the write, and the event loop). */
function refuseStream(stat: Stats | undefined): void {
  if (stat && (stat.isFIFO() || stat.isSocket())) {
    throw new Error(`it is a ${stat.isFIFO() ? 'named pipe' : 'socket'}: a reader that stalls would stop every audited request of the node; give a regular file (a shipper can follow it)`);
  }
}

export class AuditLogFile {
  private readonly fd: number;
  private readonly failed: (error: unknown) => void;
  /** Opens (creating, 0600) the file to append to; throws the file's error when it cannot. */
  constructor(path: string, failed: (error: unknown) => void) {
    refuseStream(statSync(path, { throwIfNoEntry: false }));
    // Non-blocking: a device that cannot take a line at once (EAGAIN) refuses the request rather than stall every request of the node.
    this.fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o600);
    const stat = fstatSync(this.fd);
    try {
      refuseStream(stat);
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
    // A file left wider by hand is narrowed; a device (a pipe to a shipper, /dev/full in tests) is left as it is.
    if (stat.isFile() && (stat.mode & 0o077) !== 0) chmodSync(path, 0o600);
    this.failed = failed;
  }

  /** Appends the record's line, or throws DECISIONS.auditLogUnwritable (the transaction writing the record then rolls back). */
  readonly append = (record: ChainedAuditEvent): void => {
    const line = Buffer.from(`${auditLine(record)}\n`);
    let size = -1;
    try {
      size = fstatSync(this.fd).size;
      for (let written = 0; written < line.length; ) written += writeSync(this.fd, line, written);
    } catch (error) {
      if (size >= 0) {
        try {
          ftruncateSync(this.fd, size);
        } catch {
          // the file keeps a torn last line; the next whole line still starts on its own line only if this one ended
        }
      }
      this.failed(error);
      throw kms(DECISIONS.auditLogUnwritable);
    }
  };

  close(): void {
    closeSync(this.fd);
  }
}
