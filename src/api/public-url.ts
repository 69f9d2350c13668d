import type { AddressInfo } from 'node:net';

/**
 * The URL of the address a server listens on. The host is the configured one (a wildcard such
 * as 0.0.0.0 is printed as configured), the port the one actually bound (--port 0 picks one).
 */
export function listeningUrl(address: AddressInfo | string | null, configuredHost: string, configuredPort: number, tls: boolean): string {
  const port = typeof address === 'object' && address !== null ? address.port : configuredPort;
  const host = configuredHost.includes(':') ? `[${configuredHost}]` : configuredHost;
  return `${tls ? 'https' : 'http'}://${host}:${port}`;
}
