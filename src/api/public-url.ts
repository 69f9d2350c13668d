import { isIPv6, type AddressInfo } from 'node:net';

/**
 * 0.0.0.0 and :: listen on every address of the machine, and are no address to connect to.
 * isIPv6 only for a host with a colon: Node's first isIPv6 call compiles its IPv6 expression,
 * ~20 ms of every start for a host like 127.0.0.1 that cannot be one.
 */
const isWildcard = (host: string): boolean => host === '0.0.0.0' || (host.includes(':') && /^[0:]+$/.test(host) && isIPv6(host));

/**
 * The URL to reach a server on the address it listens on: the configured host, loopback for a
 * wildcard (0.0.0.0 or ::, which a client cannot connect to, and which serves loopback too),
 * and the port actually bound (--port 0 picks one). --public-url, where set, replaces it in
 * what kmsd prints and links.
 */
export function listeningUrl(address: AddressInfo | string | null, configuredHost: string, configuredPort: number, tls: boolean): string {
  const port = typeof address === 'object' && address !== null ? address.port : configuredPort;
  const named = isWildcard(configuredHost) ? '127.0.0.1' : configuredHost;
  const host = named.includes(':') ? `[${named}]` : named;
  return `${tls ? 'https' : 'http'}://${host}:${port}`;
}
