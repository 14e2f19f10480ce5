// A TCP forwarder: the apiserver listens on loopback only; pods reach it on the bridge's host address
// through this (TLS passes through untouched, the serving certificate also names the bridge address).
import { connect, createServer, type Server } from 'node:net';

/** Listens on `listen` and pipes every connection to `target`; resolves once listening. */
export function startForwarder(
  listen: { host: string; port: number },
  target: { host: string; port: number },
): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(listen.port, listen.host, () => ok(server));
  });
}
