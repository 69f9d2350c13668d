import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server that can go silent: while paused it accepts connections and
 * bytes but delivers nothing either way (as a network that drops packets, where nothing is
 * refused or reset); on resume everything held back flows.
 */
export interface BlackholeProxy {
  port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startBlackholeProxy(targetPort: number): Promise<BlackholeProxy> {
  let paused = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: () => Socket) => {
    from.on('data', (chunk) => {
      const deliver = () => to().write(chunk);
      if (paused) held.push(deliver);
      else deliver();
    });
  };
  const server = createServer((downstream) => {
    sockets.add(downstream);
    let upstream: Socket | null = null;
    const open = () => {
      upstream = connect(targetPort, '127.0.0.1');
      sockets.add(upstream);
      forward(upstream, () => downstream);
      upstream.on('close', () => downstream.destroy());
      upstream.on('error', () => downstream.destroy());
    };
    if (paused) held.push(open);
    else open();
    forward(downstream, () => upstream as Socket);
    downstream.on('close', () => upstream?.destroy());
    downstream.on('error', () => upstream?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    pause: () => (paused = true),
    resume() {
      paused = false;
      for (const deliver of held.splice(0)) deliver();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
