import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { packageRoot } from '../../package-root.ts';
import { ASSETS, assetBytes, inSingleExecutable } from '../../single-executable/assets.ts';

/**
 * The kmsd-crypto addon (native/kmsd-crypto.c): OpenSSL's EVP_PKEY_sign / verify / encrypt /
 * decrypt on Node's own OpenSSL, for what node:crypto cannot do (sign or verify a digest the caller
 * made; SM2 encryption). It is a file built at install (scripts/build-native.ts) or shipped
 * prebuilt, looked for in this order:
 *   1. a path the host offers (`--native-crypto` / KMSD_NATIVE_CRYPTO; a single executable
 *      extracts its copy from its assets and offers that),
 *   2. the package's dist/native/kmsd-crypto-<platform>-<arch>.node,
 * and is loaded at its first use, not at start. Where neither loads (another platform, no C
 * compiler at install), kmsd falls back (see pkey.ts). A copy that loads but does not sign and
 * verify correctly (the self-test below, checked by node:crypto) is not used.
 */

/** An EVP_PKEY held by the addon (freed when the handle is collected). */
export type NativeKey = { readonly __nativeKey: unique symbol };

export interface NativeCrypto {
  importKey(der: Uint8Array, isPrivate: boolean): NativeKey;
  sign(key: NativeKey, md: string, pss: boolean, digest: Uint8Array): Buffer;
  verify(key: NativeKey, md: string, pss: boolean, digest: Uint8Array, signature: Uint8Array): boolean;
  encrypt(key: NativeKey, plaintext: Uint8Array): Buffer;
  decrypt(key: NativeKey, ciphertext: Uint8Array): Buffer | null;
  /** The OpenSSL it runs on (Node's own). */
  readonly openssl: string;
  /** glibc's malloc_trim(0) (src/memory/malloc-trim.ts): whether it gave memory back; absent without glibc and from builds before it. */
  trimMemory?(): boolean;
}

/** The addon's file name for this platform, as the build writes it and a host should carry it. */
export const NATIVE_FILE = `kmsd-crypto-${process.platform}-${process.arch}.node`;

/** The package's own build of the addon (dist/native), if kmsd runs from a package. */
export function packagedNativePath(): string | null {
  try {
    return join(packageRoot(import.meta.url), 'dist', 'native', NATIVE_FILE);
  } catch {
    return null; // no package.json above this module: a single executable
  }
}

/** Loads the addon at `path` and checks that it signs and verifies as node:crypto does; throws why not. */
export function loadNative(path: string): NativeCrypto {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  const module = { exports: {} as NativeCrypto };
  try {
    process.dlopen(module, path);
  } catch {
    throw new Error(`${path} is not a kmsd-crypto addon for this Node`); // dlopen's own text varies by system
  }
  try {
    selfTest(module.exports);
  } catch {
    throw new Error(`${path} is not a kmsd-crypto addon for this Node: it failed its self-test`);
  }
  return module.exports;
}

function selfTest(addon: NativeCrypto): void {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const message = Buffer.from('kmsd-crypto self-test');
  const digest = createHash('sha256').update(message).digest();
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const signature = addon.sign(addon.importKey(der, true), 'sha256', false, digest);
  const ours = verify('sha256', message, publicKey, signature);
  const publicHandle = addon.importKey(publicKey.export({ type: 'spki', format: 'der' }), false);
  const theirs = addon.verify(publicHandle, 'sha256', false, digest, sign('sha256', message, privateKey));
  const forged = addon.verify(publicHandle, 'sha256', false, createHash('sha256').update('other').digest(), signature);
  if (!ours || !theirs || forged) throw new Error('its ECDSA signatures do not agree with node:crypto');
}

let offered: string | null = null;
let loaded: { addon: NativeCrypto | null } | undefined;

/**
 * The host's copy of the addon, tried before the package's own. Loaded at once: a path the
 * operator or the host names and that does not work is an error to report at start (thrown),
 * never a silent fallback.
 */
export function offerNativeCrypto(path: string): void {
  if (path === '' || path === offered) return;
  refuseWritableByOthers(path);
  loaded = { addon: loadNative(path) };
  offered = path;
}

/** No addon on this thread: the fallbacks serve (`--native-crypto none`). */
export function refuseNativeCrypto(): void {
  loaded = { addon: null };
  offered = null;
}

/** The addon, or null when none loads here (loaded once per thread, at its first use). */
export function nativeCrypto(): NativeCrypto | null {
  if (loaded) return loaded.addon;
  let addon: NativeCrypto | null = null;
  try {
    if (inSingleExecutable) addon = loadCarried();
    else {
      const path = packagedNativePath();
      if (path !== null) addon = loadNative(path);
    }
  } catch {
    addon = null; // not built here, or not for this Node: the fallbacks serve
  }
  loaded = { addon };
  return addon;
}

/**
 * The single executable's own addon (the asset addons/kmsd-crypto.node, of its architecture):
 * a shared library loads only from a file, so it is written to a private directory (0700, the
 * file 0600), loaded and self-tested, and removed at once (the library stays mapped). Null when
 * the executable carries none (another architecture's build): the fallbacks serve.
 */
function loadCarried(): NativeCrypto | null {
  const bytes = assetBytes(`${ASSETS.addonPrefix}kmsd-crypto.node`);
  if (bytes === null) return null;
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-crypto-'));
  try {
    const file = join(dir, 'kmsd-crypto.node');
    writeFileSync(file, bytes, { mode: 0o600 });
    return loadNative(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An addon runs as kmsd's own code, with every key it signs with in reach: its self-test only
 * catches a wrong build, never a malicious one. So a file (or a directory above it) that users
 * other than its owner may write is refused, as a data directory others may write is.
 */
function refuseWritableByOthers(path: string): void {
  for (let at = resolve(path); ; at = dirname(at)) {
    let mode: number;
    try {
      mode = statSync(at).mode;
    } catch {
      return; // loadNative says the file does not exist
    }
    // A sticky directory (/tmp) lets others add files, not replace this one.
    const sticky = (mode & 0o1000) !== 0 && at !== resolve(path);
    if ((mode & 0o022) !== 0 && !sticky) throw new Error(`${at} is writable by other users: an addon there could be replaced; make it writable by its owner only`);
    if (dirname(at) === at) return;
  }
}
