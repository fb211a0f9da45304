// Conversations encrypted at rest, proven on the file: `switchyard up` (its own dev server and
// SQLite file in the data dir, worker and gateway as real processes, a model at the wire) answers
// one message, stops, and the dev server's SQLite files are searched for the message and the
// model's answer — absent with the codec (the default), present with SWITCHYARD_ENCRYPTION=off.
// With the codec, the owner still reads them: the real `temporal workflow show` through the
// gateway's codec endpoint, the Web UI's configured endpoint with CORS, and the histories replay.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { wireModelYaml } from '../../bench/fake-model.js';
import { loadConfig } from '../../config/load.js';
import { ENCRYPTED_ENCODING } from '../../temporal/codec.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { keyFileOf } from '../../temporal/encryption-keys.js';
import { loadWorkflowBundle } from '../../worker/bundle.js';
import { startWireServer } from '../agent/wire-servers.js';
import { freePort } from '../helpers/ports.js';
import { spawnSwitchyard } from '../helpers/processes.js';

const run = promisify(execFile);
type Payload = temporal.api.common.v1.IPayload;

/** Every payload in a history (inputs, results, signals, memos), found by walking the events. */
function payloadsOf(value: unknown, out: Payload[] = []): Payload[] {
  if (!value || typeof value !== 'object') return out;
  const record = value as Record<string, unknown>;
  if (record.metadata && typeof record.metadata === 'object' && 'data' in record) out.push(record as Payload);
  for (const v of Object.values(record)) payloadsOf(v, out);
  return out;
}

/** Bytes of the dev server's SQLite files (the database and its WAL) that contain `needle`. */
function sqliteFilesContaining(home: string, needle: string): string[] {
  return readdirSync(home)
    .filter((f) => f.startsWith('temporal.db'))
    .filter((f) => readFileSync(join(home, f)).includes(Buffer.from(needle)));
}

async function conversationThroughUp(encryption: 'default' | 'off') {
  const question = `Where is the spare key? marker-q-${randomUUID()}`;
  const answer = `Under the blue flowerpot. marker-a-${randomUUID()}`;
  const model = await startWireServer('openai', () => ({ text: answer }));
  const home = mkdtempSync(join(tmpdir(), 'switchyard-encryption-'));
  writeFileSync(join(home, 'switchyard.yaml'), wireModelYaml(model.url));
  const env = {
    SWITCHYARD_HOME: home,
    SWITCHYARD_GATEWAY_PORT: String(await freePort()),
    SWITCHYARD_TEMPORAL_PORT: String(await freePort()),
    SWITCHYARD_TEMPORAL_UI_PORT: String(await freePort()),
    TEMPORAL_ADDRESS: '',
    ...(encryption === 'off' ? { SWITCHYARD_ENCRYPTION: 'off' } : {}),
  };
  const up = spawnSwitchyard(['up'], env);
  return {
    question,
    answer,
    home,
    up,
    async start() {
      await up.waitFor(/^Switchyard is up\./, 120_000);
      const out = up.output();
      const gateway = /gateway\s+(http:\/\/\S+)/.exec(out)![1]!;
      const uiUrl = /UI: (http:\/\/\S+)/.exec(out)![1]!;
      const address = /Temporal\s+(\S+:\d+)/.exec(out)![1]!;
      const token = readFileSync(join(home, 'gateway.token'), 'utf8').trim();
      const res = await fetch(`${gateway}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'main',
          user: 'owner',
          messages: [{ role: 'user', content: question }],
        }),
      });
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      expect(body.choices[0]!.message.content).toBe(answer);
      return { gateway, uiUrl, address, token };
    },
    /** Ctrl-C: the dev server closes its SQLite file. */
    async stop() {
      up.child.kill('SIGINT');
      await up.exited;
      await model.close();
    },
  };
}

describe('conversations encrypted at rest (switchyard up, the real dev server and its SQLite file)', () => {
  const cli = inject('temporalCli');

  it('with the codec (the default) neither the message nor the answer is in the SQLite file, yet the owner reads both through the codec endpoint', async () => {
    const c = await conversationThroughUp('default');
    try {
      const { gateway, uiUrl, address, token } = await c.start();
      expect(statSync(keyFileOf(c.home)).mode & 0o777).toBe(0o600);

      // Every workflow's history, as stored: payloads are ciphertext.
      const connection = await Connection.connect({ address });
      const dataConverter = dataConverterOf(loadConfig({ home: c.home, env: {} }));
      // Listing decodes memos (encrypted too); the histories are fetched as stored.
      const plain = new Client({ connection, dataConverter });
      const histories: Array<{ workflowId: string; history: temporal.api.history.v1.IHistory }> = [];
      for await (const w of plain.workflow.list()) {
        histories.push({
          workflowId: w.workflowId,
          history: await plain.workflow.getHandle(w.workflowId).fetchHistory(),
        });
      }
      // Temporal's own bookkeeping is written by the SDK's core in clear, and is no conversation:
      // patch markers ({id, deprecated}), the TemporalChangeVersion search attribute (patch ids)
      // and local-activity markers' metadata (seq, attempt, activity type, times).
      const bookkeeping = (p: Payload) => {
        const value = JSON.parse(Buffer.from(p.data ?? []).toString()) as unknown;
        if (Array.isArray(value)) return value.every((v) => typeof v === 'string' && v.startsWith('sy-'));
        const keys = Object.keys(value as object)
          .sort()
          .join(',');
        return (
          keys === 'deprecated,id' ||
          keys === 'activity_id,activity_type,attempt,backoff,complete_time,original_schedule_time,seq'
        );
      };
      const payloads = histories.flatMap((h) => payloadsOf(h.history));
      expect(payloads.length).toBeGreaterThan(5);
      const clear = payloads.filter(
        (p) => Buffer.from(p.metadata!.encoding!).toString() !== ENCRYPTED_ENCODING,
      );
      expect(clear.filter((p) => !bookkeeping(p)).map((p) => Buffer.from(p.data ?? []).toString())).toEqual(
        [],
      );
      expect(payloads.length - clear.length).toBeGreaterThan(5);

      // The histories replay with the codec; without it the worker cannot read them.
      const bundle = await loadWorkflowBundle();
      for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, dataConverter }, histories)) {
        expect(r.error, `${r.workflowId}: ${r.error?.message}`).toBeUndefined();
      }
      const withoutCodec: unknown[] = [];
      for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
        withoutCodec.push(r.error);
      }
      expect(withoutCodec.some((e) => e !== undefined)).toBe(true);

      // `temporal workflow show` decrypts through the gateway's codec endpoint with the token.
      const byCli = await Promise.all(
        histories.map(async ({ workflowId }) => {
          const args = ['workflow', 'show', '-w', workflowId, '--address', address, '--output', 'json'];
          const clear = await run(cli, [
            ...args,
            '--codec-endpoint',
            `${gateway}/codec`,
            '--codec-auth',
            `Bearer ${token}`,
          ]);
          const raw = await run(cli, args);
          return { clear: clear.stdout, raw: raw.stdout };
        }),
      );
      const decoded = (s: string) => Buffer.from(s, 'base64').toString('utf8');
      const clearTexts = byCli.map((b) =>
        JSON.stringify(payloadsOf(JSON.parse(b.clear)).map((p) => decoded(String(p.data)))),
      );
      expect(clearTexts.join('\n')).toContain(c.question);
      expect(clearTexts.join('\n')).toContain(c.answer);
      expect(byCli.map((b) => b.raw).join('\n')).not.toContain(
        Buffer.from(c.question).toString('base64').slice(0, 20),
      );

      // The Web UI was given the gateway's codec endpoint and may call it from its origin.
      const settings = (await (await fetch(`${uiUrl}/api/v1/settings`)).json()) as {
        Codec?: { Endpoint?: string };
      };
      const endpoint = settings.Codec?.Endpoint ?? '';
      expect(endpoint).toMatch(new RegExp(`^${gateway}/codec/ui/[A-Za-z0-9_-]{43}$`));
      const origin = new URL(uiUrl).origin;
      const preflight = await fetch(`${endpoint}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
      const asJson = (p: Payload) => ({
        metadata: Object.fromEntries(
          Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
      });
      const decode = (url: string, headers: Record<string, string> = {}) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin, ...headers },
          body: JSON.stringify({ payloads: payloads.map(asJson) }),
        });
      const fromUi = await decode(`${endpoint}/decode`);
      expect(fromUi.status).toBe(200);
      expect(fromUi.headers.get('access-control-allow-origin')).toBe(origin);
      const texts = ((await fromUi.json()) as { payloads: Array<{ data: string }> }).payloads.map((p) =>
        decoded(p.data),
      );
      expect(texts.join('\n')).toContain(c.question);
      // Not for other origins, not without the token or with a wrong UI key.
      const other = await decode(`${endpoint}/decode`, { origin: 'http://evil.test' });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect((await decode(`${gateway}/codec/decode`)).status).toBe(401);
      expect((await decode(`${gateway}/codec/ui/${'A'.repeat(43)}/decode`)).status).toBe(401);
      expect((await decode(`${gateway}/codec/decode`, { authorization: `Bearer ${token}` })).status).toBe(
        200,
      );
      await connection.close();
    } finally {
      await c.stop();
    }
    expect(existsSync(join(c.home, 'temporal.db'))).toBe(true);
    expect(sqliteFilesContaining(c.home, c.question)).toEqual([]);
    expect(sqliteFilesContaining(c.home, c.answer)).toEqual([]);
    expect(sqliteFilesContaining(c.home, 'marker-q-')).toEqual([]);
  }, 240_000);

  it('with SWITCHYARD_ENCRYPTION=off the same conversation is in the SQLite file in clear (the search above can find it)', async () => {
    const c = await conversationThroughUp('off');
    try {
      await c.start();
      expect(existsSync(keyFileOf(c.home))).toBe(false);
    } finally {
      await c.stop();
    }
    expect(sqliteFilesContaining(c.home, c.question).length).toBeGreaterThan(0);
    expect(sqliteFilesContaining(c.home, c.answer).length).toBeGreaterThan(0);
  }, 240_000);
});
