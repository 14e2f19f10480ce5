import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../ports.js';
import { startForwarder } from './forward.js';

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

describe('apiserver forwarder', () => {
  it('pipes bytes both ways to the target port', async () => {
    const echo = createServer((s) => s.on('data', (d) => s.write(`echo:${d.toString()}`)));
    servers.push(echo);
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const target = (echo.address() as AddressInfo).port;
    const port = await freePort();
    servers.push(await startForwarder({ host: '127.0.0.1', port }, { host: '127.0.0.1', port: target }));
    const reply = await new Promise<string>((ok, fail) => {
      const c = connect(port, '127.0.0.1', () => c.write('ping'));
      c.on('data', (d) => {
        ok(d.toString());
        c.destroy();
      });
      c.on('error', fail);
    });
    expect(reply).toBe('echo:ping');
  });

  it('closes the client when the target refuses', async () => {
    const port = await freePort();
    const dead = await freePort();
    servers.push(await startForwarder({ host: '127.0.0.1', port }, { host: '127.0.0.1', port: dead }));
    const closed = await new Promise<boolean>((ok) => {
      const c = connect(port, '127.0.0.1');
      c.on('close', () => ok(true));
      c.on('error', () => undefined);
    });
    expect(closed).toBe(true);
  });
});
