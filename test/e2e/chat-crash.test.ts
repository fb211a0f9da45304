// The gateway dies in the middle of sending a reply, on Slack and on Discord. Real processes:
// `switchyard gateway` is spawned (it owns the platform connection and the outbox) and SIGKILLed
// the moment the platform server stores its post, before the answer is read; the turn runs on a
// worker in this process on the real dev server. The restarted gateway takes the send over:
// - Slack has no idempotent post, so it looks the chunk up by the key in its metadata, finds it,
//   and marks it sent: one message in the chat.
// - Discord drops a repeated nonce (enforce_nonce) for a few minutes, so the chunk is sent again
//   under the same nonce. crabline does not honour enforce_nonce and stores a second copy; what
//   this test can prove is that both posts carry the same nonce with enforce_nonce, which real
//   Discord answers with the first message.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionHistory } from '../../client/sessions.js';
import { loadConfig } from '../../config/load.js';
import type { OutboxState } from '../../gateway/store/outbox.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import { type FakeDiscord, startFakeDiscord } from '../discord/helpers.js';
import { SEPARATE_SESSIONS, uniqueTaskQueue } from '../helpers/config.js';
import { type FauxAgent, fauxAgent } from '../helpers/faux-agent.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';
import { type FakeSlack, startFakeSlack } from '../slack/helpers.js';

/** Above the 90 s the restarted gateway gets to finish the send (the file default is 60 s). */
const CRASH_TEST_TIMEOUT = 150_000;

interface OutboxRow {
  key: string;
  state: OutboxState;
  message_id: string | null;
  claimed_by: string;
}

/** A gateway process over a data dir, a worker here, a faux model: what both platforms share. */
function crashRig(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-e2e-${name}-`));
  const home = join(dir, 'home');
  const gateways: Spawned[] = [];
  let worker: RunningWorker | undefined;
  let agent: FauxAgent | undefined;
  let env: NodeJS.ProcessEnv = {};
  return {
    home,
    async start(address: string, channelYaml: string[]) {
      env = {
        SWITCHYARD_HOME: home,
        TEMPORAL_ADDRESS: address,
        SWITCHYARD_TASK_QUEUE: uniqueTaskQueue(name),
        SWITCHYARD_GATEWAY_PORT: String(await freePort()),
        SWITCHYARD_GATEWAY_TOKEN: `${name}-crash-token-0123456789`,
      };
      mkdirSync(home, { recursive: true });
      writeFileSync(
        join(home, 'switchyard.yaml'),
        ['channels:', ...channelYaml, SEPARATE_SESSIONS].join('\n'),
      );
      agent = fauxAgent();
      agent.answerWith((prompt) => `Reply to: ${prompt}`);
      worker = await startWorker({
        config: loadConfig({ home, env }),
        deps: { agent: { config: agent.config } },
      });
    },
    async gateway(): Promise<Spawned> {
      const gateway = spawnSwitchyard(['gateway'], env);
      gateways.push(gateway);
      await gateway.waitFor(/gateway listening/);
      return gateway;
    },
    /** The outbox rows of the reply, read from the gateway's SQLite. */
    outbox(): OutboxRow[] {
      const db = new Database(join(home, 'gateway.db'), { readonly: true });
      try {
        return db
          .prepare<[], OutboxRow>(
            "SELECT key, state, message_id, claimed_by FROM outbox WHERE key LIKE 'turn:%'",
          )
          .all();
      } finally {
        db.close();
      }
    },
    async close() {
      for (const g of gateways) await g.kill('SIGKILL');
      await worker?.shutdown();
      agent?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const transcriptRoles = async (address: string, home: string, sessionKey: string) => {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address });
  try {
    return (
      await sessionHistory(
        new Client({ connection, dataConverter: dataConverterOf(loadConfig({ home })) }),
        sessionKey,
      ).catch(() => undefined)
    )?.transcript.map((e) => e.role);
  } finally {
    await connection.close();
  }
};

describe('a gateway SIGKILLed while its Slack reply is on the wire', () => {
  const address = inject('temporalAddress');
  const OWNER = 'U0CRASH001';
  const DM = 'D0CRASH001';
  const rig = crashRig('slackcrash');
  let slack: FakeSlack;
  let killOnPost: (() => void) | undefined;

  beforeAll(async () => {
    slack = await startFakeSlack({
      onEvent: (event) => {
        if (event.type !== 'api' || event.path !== '/api/chat.postMessage') return;
        killOnPost?.();
        killOnPost = undefined;
      },
    });
    await rig.start(address, [
      '  slack:',
      `    botToken: "${slack.botToken}"`,
      `    appToken: "${slack.appToken}"`,
      `    apiUrl: "${slack.apiUrl}"`,
      '    dmPolicy: allowlist',
      `    allowFrom: ["${OWNER}"]`,
    ]);
  });
  afterAll(async () => {
    await rig.close();
    await slack?.close();
  });

  it(
    'posts the reply exactly once: the restarted gateway finds it by its key and marks it sent',
    async () => {
      const first = await rig.gateway();
      killOnPost = () => first.child.kill('SIGKILL');
      await slack.send({ channel: DM, user: OWNER, text: 'are you alive?' });
      await first.exited;
      expect(slack.posts().map((p) => p.text)).toEqual(['Reply to: are you alive?']);
      const [pending] = rig.outbox();
      expect(pending?.state).toBe('pending');

      await rig.gateway();
      await expect
        .poll(() => transcriptRoles(address, rig.home, `agent:main:slack:direct:${OWNER.toLowerCase()}`), {
          timeout: 90_000,
          interval: 500,
        })
        .toEqual(['user', 'assistant']);
      expect(slack.posts().map((p) => p.text)).toEqual(['Reply to: are you alive?']);
      // The look-up in the DM's history found the post the dead gateway made.
      expect(slack.calls('/api/conversations.history').length).toBeGreaterThanOrEqual(1);
      const rows = rig.outbox();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ key: pending!.key, state: 'sent', claimed_by: pending!.claimed_by });
      expect(rows[0]?.message_id).toMatch(/^\d+\.\d+$/);
    },
    CRASH_TEST_TIMEOUT,
  );
});

describe('a gateway SIGKILLed while its Discord reply is on the wire', () => {
  const address = inject('temporalAddress');
  const OWNER = '135000000000009301';
  const rig = crashRig('discordcrash');
  let discord: FakeDiscord;
  let killOnPost: (() => void) | undefined;

  beforeAll(async () => {
    discord = await startFakeDiscord({
      onEvent: (event) => {
        if (event.type !== 'api' || event.method !== 'POST' || !/\/channels\/\d+\/messages$/.test(event.path))
          return;
        killOnPost?.();
        killOnPost = undefined;
      },
    });
    await rig.start(address, [
      '  discord:',
      `    botToken: "${discord.botToken}"`,
      `    apiRoot: "${discord.apiRoot}"`,
      '    dmPolicy: allowlist',
      `    allowFrom: ["${OWNER}"]`,
    ]);
  });
  afterAll(async () => {
    await rig.close();
    await discord?.close();
  });

  it(
    'sends the reply again under the same enforced nonce, so Discord keeps one message',
    async () => {
      const dm = discord.dmChannel(OWNER);
      const first = await rig.gateway();
      killOnPost = () => first.child.kill('SIGKILL');
      await discord.send({ channelId: dm, senderId: OWNER, content: 'are you alive?' });
      await first.exited;
      expect(discord.posts(dm).map((p) => p.content)).toEqual(['Reply to: are you alive?']);
      expect(rig.outbox()[0]?.state).toBe('pending');

      await rig.gateway();
      await expect
        .poll(() => transcriptRoles(address, rig.home, `agent:main:discord:direct:${OWNER}`), {
          timeout: 90_000,
          interval: 500,
        })
        .toEqual(['user', 'assistant']);
      const posts = discord.posts(dm);
      expect(posts).toHaveLength(2);
      const [a, b] = posts;
      expect(a).toMatchObject({ content: 'Reply to: are you alive?', enforce_nonce: true });
      expect(b).toEqual(a);
      expect(String(a?.nonce)).toMatch(/^[0-9a-f]{25}$/);
      const rows = rig.outbox();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.state).toBe('sent');
    },
    CRASH_TEST_TIMEOUT,
  );
});
