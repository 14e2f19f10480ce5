// Free TCP port picking on loopback for the control plane's components and the test services.
import { createServer } from 'node:net';

/** Asks the kernel for a free port on 127.0.0.1 (bind to 0, read it back, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolvePort(port) : reject(new Error('kernel returned no port'))));
    });
  });
}

/**
 * Picks `n` distinct free ports. Ports are held open until all are chosen so the kernel cannot hand the
 * same one out twice within one call.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      return new Promise<ReturnType<typeof createServer>>((ok, fail) => {
        const srv = createServer();
        srv.once('error', fail);
        srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => ok(srv));
      });
    }),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (typeof a !== 'object' || !a) throw new Error('kernel returned no port');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  return ports;
}
