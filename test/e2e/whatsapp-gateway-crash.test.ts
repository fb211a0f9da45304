// The gateway dies in the middle of sending a WhatsApp reply. Real processes: `switchyard gateway`
// is spawned (it owns the WhatsApp connection and the outbox) and SIGKILLed the moment the
// WhatsApp server accepts its message; the turn runs on a worker in this process on the real dev
// server. The restarted gateway sends the chunk again with the same message id (derived from the
// outbox key), the server drops the duplicate, and the outbox row ends `sent`: exactly one reply.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWhatsAppServer } from '@openclaw/crabline';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionHistory } from '../../client/sessions.js';
import { openDb } from '../../gateway/store/db.js';
import { SEPARATE_SESSIONS, uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';
import { type ReplyWorker, startReplyWorker } from '../helpers/reply-worker.js';
import { linkedAuthDir } from '../whatsapp/helpers.js';

// Two moments: when the server has just received the message stanza (it may or may not accept it
// before the socket dies with the gateway), and when it has accepted it (its ack never arrives).
describe.each(['stanza', 'accept'] as const)(
  'a gateway SIGKILLed while its WhatsApp reply is on the wire (at %s)',
  (moment) => {
    // Each moment its own chat: sessions are conversations, shared by tests on one Temporal server.
    const number = moment === 'stanza' ? '15553330003' : '15553330004';
    const OWNER = `${number}@s.whatsapp.net`;
    const address = inject('temporalAddress');
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-wacrash-'));
    const home = join(dir, 'home');
    const accepted: Array<{ id: string; text: string }> = [];
    const gateways: Spawned[] = [];
    let killOnAccept: (() => void) | undefined;
    let whatsapp: Awaited<ReturnType<typeof startWhatsAppServer>>;
    let replies: ReplyWorker;
    let env: NodeJS.ProcessEnv;
    let client: Client;

    beforeAll(async () => {
      whatsapp = await startWhatsAppServer({
        recorderPath: join(dir, 'recorder.jsonl'),
        onEvent: (event) => {
          const e = event as {
            method?: string;
            accepted?: boolean;
            body?: { key?: { id?: string; fromMe?: boolean }; message?: { conversation?: string } };
          };
          const stanza = event.body as { tag?: string; attrs?: { to?: string } } | undefined;
          const isStanza =
            e.accepted === undefined && stanza?.tag === 'message' && stanza.attrs?.to === OWNER;
          const isAccept = e.accepted === true && e.body?.key?.fromMe === true;
          if (isAccept)
            accepted.push({ id: e.body?.key?.id ?? '', text: e.body?.message?.conversation ?? '' });
          if ((moment === 'stanza' && isStanza) || (moment === 'accept' && isAccept)) {
            killOnAccept?.();
            killOnAccept = undefined;
          }
        },
      });
      mkdirSync(join(home, 'whatsapp'), { recursive: true });
      await linkedAuthDir(whatsapp.manifest.selfJid, join(home, 'whatsapp', 'default'));
      env = {
        SWITCHYARD_HOME: home,
        TEMPORAL_ADDRESS: address,
        SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('wacrash'),
        SWITCHYARD_GATEWAY_PORT: String(await freePort()),
        SWITCHYARD_GATEWAY_TOKEN: 'whatsapp-crash-token-0123456789',
      };
      writeFileSync(
        join(home, 'switchyard.yaml'),
        [
          'channels:',
          '  whatsapp:',
          `    wsUrl: "${whatsapp.manifest.endpoints.baileysWebSocketUrl}"`,
          '    dmPolicy: allowlist',
          `    allowFrom: ["+${number}"]`,
          SEPARATE_SESSIONS,
        ].join('\n'),
      );
      replies = await startReplyWorker({ home, env, address });
      client = replies.client;
    });
    afterAll(async () => {
      for (const g of gateways) await g.kill('SIGKILL');
      await replies?.stop();
      await whatsapp?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${env.SWITCHYARD_GATEWAY_PORT}/readyz`).catch(
        () => undefined,
      );
      return res ? ((await res.json()) as { channels: Array<{ state: string }> }) : undefined;
    };

    it('sends the reply exactly once after the gateway restarts, and the outbox says sent', async () => {
      const first = spawnSwitchyard(['gateway'], env);
      gateways.push(first);
      await first.waitFor(/gateway listening/);
      await expect
        .poll(async () => (await readyz())?.channels[0]?.state, { timeout: 30_000 })
        .toBe('connected');
      killOnAccept = () => first.child.kill('SIGKILL');

      const res = await fetch(whatsapp.manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-crabline-admin-token': whatsapp.manifest.adminToken,
        },
        body: JSON.stringify({
          chatJid: OWNER,
          senderJid: OWNER,
          pushName: 'Alice',
          text: 'are you alive?',
          messageId: 'CRASH-1',
        }),
      });
      expect(res.ok).toBe(true);
      await first.exited;

      const second = spawnSwitchyard(['gateway'], env);
      gateways.push(second);
      await second.waitFor(/gateway listening/);
      await expect
        .poll(
          async () =>
            (
              await sessionHistory(client, `agent:main:whatsapp:direct:+${number}`).catch(() => undefined)
            )?.transcript.map((e) => e.role),
          { timeout: 120_000, interval: 500 },
        )
        .toEqual(['user', 'assistant']);
      // The first gateway died before WhatsApp's ack reached it, so its outbox row was pending: the
      // second sent the same message id again, and the server kept one message.
      expect(accepted.map((m) => m.text)).toEqual(['Reply to: are you alive?']);
      const stanzas = readFileSync(join(dir, 'recorder.jsonl'), 'utf8')
        .split('\n')
        .filter((line) => line.includes(accepted[0]!.id) && line.includes('"tag":"message"'));
      expect(stanzas.length).toBe(2);
      const db = openDb(join(home, 'gateway.db'));
      try {
        const rows = db
          .prepare("SELECT state, message_id AS messageId FROM outbox WHERE channel = 'whatsapp'")
          .all() as Array<{ state: string; messageId: string }>;
        expect(rows).toEqual([{ state: 'sent', messageId: accepted[0]!.id }]);
      } finally {
        db.close();
      }
      // The send activity is retried once its heartbeat (10 s) is missed: give it time.
    }, 180_000);
  },
);
