import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { testConfig, uniqueTaskQueue } from '../helpers/config.js';
import { connectParams, RawClient, TOKEN } from '../protocol/harness.js';

describe('the running gateway speaks the OpenClaw protocol on its HTTP port', () => {
  const address = inject('temporalAddress');
  let gateway: Gateway;
  let wsUrl: string;

  beforeAll(async () => {
    const config = testConfig(address, { SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('proto') });
    gateway = await buildGateway({ config, token: TOKEN, logger: false });
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    wsUrl = url.replace(/^http/, 'ws');
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('answers connect with the gateway token, then status from the real Temporal connection', async () => {
    const client = await RawClient.open(wsUrl);
    try {
      await client.challenge();
      const hello = await client.request('c1', 'connect', connectParams());
      expect(hello.ok).toBe(true);
      expect(hello.payload).toMatchObject({ type: 'hello-ok', protocol: 4 });

      const status = await client.request('s1', 'status');
      expect(status.ok).toBe(true);
      expect(status.payload).toMatchObject({
        server: { name: 'switchyard' },
        temporal: { ok: true, address },
        workers: 0,
      });
      const health = await client.request('h1', 'health');
      expect(health).toMatchObject({ ok: true, payload: { ok: true } });
      expect(client.problems).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('refuses a wrong token with AUTH_TOKEN_MISMATCH and closes 1008', async () => {
    const client = await RawClient.open(wsUrl);
    await client.challenge();
    const res = await client.request(
      'c1',
      'connect',
      connectParams({ auth: { token: 'not-the-token-at-all' } }),
    );
    expect(res.ok).toBe(false);
    expect(res.error).toMatchObject({ details: { code: 'AUTH_TOKEN_MISMATCH' } });
    expect((await client.closed).code).toBe(1008);
  });

  it('serves chat.abort (nothing running: not aborted) and answers an unknown method with an error, not silence', async () => {
    const client = await RawClient.open(wsUrl);
    try {
      await client.challenge();
      await client.request(
        'c1',
        'connect',
        connectParams({ scopes: ['operator.read', 'operator.write', 'operator.admin'] }),
      );
      // A session of its own: `agent:main:main` may be running on this shared dev server for
      // another test file, on a queue no worker of this test serves (the update would wait).
      const res = await client.request('l1', 'chat.abort', {
        sessionKey: `agent:main:gw-protocol-${Date.now()}`,
      });
      expect(res).toMatchObject({ ok: true, payload: { ok: true, aborted: false, runIds: [] } });
      const unknown = await client.request('l2', 'no.such.method', {});
      expect(unknown).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
      expect(client.problems).toEqual([]);
    } finally {
      client.close();
    }
  });
});
