// Handshake and security: what a client sees when it connects right, wrong, or not at all.
import { GatewayClient } from '@openclaw/gateway-client';
import type { HelloOk } from '@openclaw/gateway-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceStore } from '../../gateway/store/devices.js';
import {
  check,
  connectParams,
  type Gateway,
  makeDevice,
  RawClient,
  signedDevice,
  startGateway,
  TOKEN,
} from './harness.js';
import { pongServices } from './services-double.js';

let gw: Gateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function startClient(opts: ConstructorParameters<typeof GatewayClient>[0]) {
  return new Promise<{ client: GatewayClient; hello: HelloOk }>((resolve, reject) => {
    const client = new GatewayClient({
      ...opts,
      onHelloOk: (hello) => resolve({ client, hello }),
      onConnectError: (err) => reject(err),
    });
    client.start();
  });
}

describe('connect', () => {
  it('admits the official GatewayClient with the shared token and answers a schema-valid hello-ok', async () => {
    gw = await startGateway(pongServices());
    const { client, hello } = await startClient({
      url: gw.url,
      token: TOKEN,
      clientName: 'cli',
      mode: 'cli',
      scopes: ['operator.read', 'operator.write'],
      deviceIdentity: null,
    });
    expect(check.helloOk(hello), JSON.stringify(check.helloOk.errors)).toBe(true);
    expect(hello.protocol).toBe(4);
    expect(hello.policy).toEqual({
      maxPayload: 25 * 1024 * 1024,
      maxBufferedBytes: 50 * 1024 * 1024,
      tickIntervalMs: 30_000,
    });
    expect(hello.features.methods).toEqual(
      expect.arrayContaining(['health', 'status', 'chat.send', 'agent']),
    );
    expect(hello.snapshot.sessionDefaults).toEqual({
      defaultAgentId: 'main',
      mainKey: 'main',
      mainSessionKey: 'agent:main:main',
    });
    const health = await client.request('health', {});
    expect(health.ok).toBe(true);
    const status = await client.request('status', {});
    expect(status.runtimeVersion).toBe('0.1.0-test');
    await client.stopAndWait();
  });

  it('refuses a wrong token with INVALID_REQUEST / AUTH_TOKEN_MISMATCH, then closes 1008', async () => {
    gw = await startGateway(pongServices());
    const raw = await RawClient.open(gw.url);
    await raw.challenge();
    const res = await raw.request('c1', 'connect', connectParams({ auth: { token: 'wrong-token' } }));
    expect(res.ok).toBe(false);
    expect(res.error.code).toBe('INVALID_REQUEST');
    expect(res.error.details).toMatchObject({ code: 'AUTH_TOKEN_MISMATCH', authReason: 'token_mismatch' });
    expect((await raw.closed).code).toBe(1008);
    expect(raw.problems).toEqual([]);
  });

  it('refuses a client with neither credentials nor device: NOT_PAIRED / DEVICE_IDENTITY_REQUIRED', async () => {
    gw = await startGateway(pongServices());
    const raw = await RawClient.open(gw.url);
    await raw.challenge();
    const res = await raw.request('c1', 'connect', connectParams({ auth: {} }));
    expect(res.error).toEqual({
      code: 'NOT_PAIRED',
      message: 'device identity required',
      details: { code: 'DEVICE_IDENTITY_REQUIRED' },
    });
    expect(await raw.closed).toEqual({ code: 1008, reason: 'device identity required' });
    expect(raw.problems).toEqual([]);
  });

  it('accepts a loopback device signed with a v3 payload, pairs it, and issues a device token that works alone', async () => {
    gw = await startGateway(pongServices());
    const device = makeDevice();
    const { client, hello } = await startClient({
      url: gw.url,
      token: TOKEN,
      clientName: 'openclaw-ios',
      mode: 'ui',
      platform: 'iOS',
      deviceFamily: 'iPhone',
      scopes: ['operator.read', 'operator.write'],
      deviceIdentity: {
        deviceId: device.deviceId,
        privateKeyPem: device.privateKeyPem,
        publicKeyPem: device.publicKeyPem,
      },
      hostDeps: {
        signDevicePayload: (_pem, payload) => device.sign(payload),
        publicKeyRawBase64UrlFromPem: () => device.publicKeyRaw,
      },
    });
    expect(check.helloOk(hello)).toBe(true);
    expect(hello.auth).toMatchObject({ role: 'operator', scopes: ['operator.read', 'operator.write'] });
    const deviceToken = hello.auth.deviceToken as string;
    expect(deviceToken.length).toBeGreaterThan(20);
    await client.stopAndWait();
    expect(new DeviceStore(gw.db).get(device.deviceId)?.status).toBe('approved');

    // Reconnect with only the device token (no shared secret), signing over it.
    const raw = await RawClient.open(gw.url);
    const nonce = (await raw.challenge()).payload.nonce as string;
    const scopes = ['operator.read', 'operator.write'];
    const res = await raw.request(
      'c1',
      'connect',
      connectParams({
        auth: { deviceToken },
        device: signedDevice(device, nonce, { scopes, token: deviceToken }),
      }),
    );
    expect(res.ok).toBe(true);
    expect(res.payload.auth.deviceToken).toBe(deviceToken);
    raw.close();
    expect(raw.problems).toEqual([]);
  });

  it('refuses a device whose signature does not cover the challenge nonce', async () => {
    gw = await startGateway(pongServices());
    const device = makeDevice();
    const raw = await RawClient.open(gw.url);
    await raw.challenge();
    const res = await raw.request(
      'c1',
      'connect',
      connectParams({
        device: signedDevice(device, 'some-other-nonce', {
          scopes: ['operator.read', 'operator.write'],
          token: TOKEN,
        }),
      }),
    );
    expect(res.error.details.code).toBe('DEVICE_AUTH_NONCE_MISMATCH');
    expect((await raw.closed).code).toBe(1008);
  });

  it('holds a remote unpaired device at NOT_PAIRED until `devices approve`, then admits it', async () => {
    gw = await startGateway(pongServices(), { isLocal: () => false });
    const device = makeDevice();
    const scopes = ['operator.read', 'operator.write'];
    const attempt = async () => {
      const raw = await RawClient.open(gw!.url);
      const nonce = (await raw.challenge()).payload.nonce as string;
      const res = await raw.request(
        'c1',
        'connect',
        connectParams({ device: signedDevice(device, nonce, { scopes, token: TOKEN }) }),
      );
      return { raw, res };
    };
    const first = await attempt();
    expect(first.res.error.code).toBe('NOT_PAIRED');
    expect(first.res.error.details).toMatchObject({
      code: 'PAIRING_REQUIRED',
      reason: 'not-paired',
      deviceId: device.deviceId,
    });
    expect((await first.raw.closed).code).toBe(1008);
    expect(first.raw.problems).toEqual([]);

    const store = new DeviceStore(gw.db);
    expect(store.list('pending').map((d) => d.deviceId)).toEqual([device.deviceId]);
    store.approve(first.res.error.details.requestId);

    const second = await attempt();
    expect(second.res.ok).toBe(true);
    second.raw.close();
  });

  it('locks out a remote address after repeated bad tokens (AUTH_RATE_LIMITED with retryAfterMs)', async () => {
    gw = await startGateway(pongServices(), { isLocal: () => false, rateLimit: { maxFailures: 2 } });
    for (let i = 0; i < 2; i++) {
      const raw = await RawClient.open(gw.url);
      await raw.challenge();
      await raw.request('c1', 'connect', connectParams({ auth: { token: 'nope' } }));
      await raw.closed;
    }
    const raw = await RawClient.open(gw.url);
    await raw.challenge();
    const res = await raw.request('c1', 'connect', connectParams());
    expect(res.error.details.code).toBe('AUTH_RATE_LIMITED');
    expect(res.error.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('limits', () => {
  it('refuses an oversized frame before auth (64 KiB) and after auth (25 MiB) and keeps serving', async () => {
    gw = await startGateway(pongServices());
    const pre = await RawClient.open(gw.url);
    await pre.challenge();
    pre.send({ type: 'req', id: 'c1', method: 'connect', params: { pad: 'x'.repeat(70 * 1024) } });
    expect((await pre.closed).code).toBe(1009);

    const post = await RawClient.open(gw.url);
    await post.challenge();
    expect((await post.request('c1', 'connect', connectParams())).ok).toBe(true);
    post.send({
      type: 'req',
      id: 'big',
      method: 'health',
      params: { pad: 'x'.repeat(25 * 1024 * 1024 + 10) },
    });
    expect((await post.closed).code).toBe(1009);

    const after = await RawClient.open(gw.url);
    await after.challenge();
    expect((await after.request('c1', 'connect', connectParams())).ok).toBe(true);
    expect((await after.request('h', 'health', {})).ok).toBe(true);
    after.close();
    expect([...pre.problems, ...post.problems, ...after.problems]).toEqual([]);
  });
});
