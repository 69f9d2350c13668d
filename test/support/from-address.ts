import { request as httpRequest } from 'node:http';

/** One HTTP request from a chosen loopback source address (127.0.0.0/8 is all this machine). */
export function fromAddress(url: string, source: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; body: any; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers, localAddress: source }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode as number, body: text === '' ? undefined : JSON.parse(text), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
