// Free loopback ports (free for both UDP and TCP at the time of the call).
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const tcp = createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (tcp.address() as AddressInfo).port;
    const udp = createSocket('udp4');
    const udpOk = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (udpOk) await new Promise<void>((resolve) => udp.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (udpOk && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no free UDP+TCP port found in 50 attempts');
}
