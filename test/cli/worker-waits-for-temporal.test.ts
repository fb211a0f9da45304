// `switchyard worker` started while Temporal refuses connections (under `switchyard up`: a worker
// restarted while the dev server is restarting too) waits for it and starts when it is there,
// instead of exiting at once and leaving its restart to the supervisor's growing backoff.
// Temporal "comes back" here as a TCP proxy to the suite's dev server, opened on the port the
// worker was pointed at once the worker has said it is waiting.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { wireModelYaml } from '../../bench/fake-model.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';

describe('a worker started while Temporal is down', () => {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-worker-waits-'));
  const sockets = new Set<Socket>();
  let proxy: Server | undefined;
  let worker: Spawned | undefined;
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    rmSync(home, { recursive: true, force: true });
  });

  it('waits for it and starts once it answers', async () => {
    const [host, port] = inject('temporalAddress').split(':') as [string, string];
    const downPort = await freePort();
    writeFileSync(join(home, 'switchyard.yaml'), wireModelYaml('http://127.0.0.1:9'));
    worker = spawnSwitchyard(['worker'], {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: `127.0.0.1:${downPort}`,
      SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('worker-waits'),
    });
    expect(await worker.waitFor(/Temporal not reachable/, 30_000)).toContain(`127.0.0.1:${downPort}`);

    proxy = createServer((client) => {
      const upstream = connect(Number(port), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy!.listen(downPort, '127.0.0.1', resolve));
    expect(await worker.waitFor(/worker ready/, 30_000)).toContain(`127.0.0.1:${downPort}`);
    expect(worker.child.exitCode).toBeNull();
  });
});
