/**
 * A tar archive (POSIX ustar) written entry by entry, in the order given, with every field set
 * by the caller: owner, mode and time are what the entry says, never what a file on this disk
 * has. The same entries always give the same bytes, which is what makes the image's layer
 * digests reproducible (scripts/release/image.ts). Only what the image needs: directories,
 * regular files and symbolic links, with names short enough for ustar (checked).
 */
export interface TarEntry {
  /** Path inside the archive, without a leading slash; directories without a trailing one. */
  path: string;
  type: 'dir' | 'file' | 'symlink';
  mode: number;
  uid?: number;
  gid?: number;
  /** A file's content. */
  data?: Buffer;
  /** A symbolic link's target. */
  target?: string;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: "${value}" does not fit a field of ${length} bytes`);
  bytes.copy(header, offset);
}

const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;

/** Splits a path into ustar's prefix (155 bytes) and name (100 bytes). */
function splitName(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new Error(`tar: the path ${path} is too long for ustar`);
}

function header(entry: TarEntry, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const path = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const [prefix, name] = splitName(path);
  field(h, 0, 100, name);
  field(h, 100, 8, octal(entry.mode, 8));
  field(h, 108, 8, octal(entry.uid ?? 0, 8));
  field(h, 116, 8, octal(entry.gid ?? 0, 8));
  field(h, 124, 12, octal(entry.type === 'file' ? entry.data!.length : 0, 12));
  field(h, 136, 12, octal(mtime, 12));
  field(h, 156, 1, entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2');
  if (entry.type === 'symlink') field(h, 157, 100, entry.target!);
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  field(h, 345, 155, prefix);
  // The checksum is computed with its own field as spaces.
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The archive's bytes: every entry with time `mtime` (seconds since 1970), then the end marker. */
export function tar(entries: readonly TarEntry[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry, mtime));
    if (entry.type === 'file') {
      parts.push(entry.data!);
      const pad = (BLOCK - (entry.data!.length % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
