// The production shape, for real: a Temporal server on PostgreSQL (scripts/cluster.sh), three
// `switchyard worker` processes and two `switchyard gateway` processes — host A serves the
// OpenAI-compatible API (and owns the schedules), host B serves Telegram (crabline) — each
// delivering replies through its own channel task queues. Workers are SIGKILLed and the Temporal
// server is restarted in the middle of turns, at random moments; every message still gets exactly
// one answer, and a Schedule fires once per occurrence, not once per worker or gateway.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { newKeyLine } from '../../temporal/encryption-keys.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';
import { eventually, type FakeTelegram, startFakeTelegram } from '../telegram/helpers.js';
import { CLUSTER_SCRIPT } from './global-setup.js';
import { answerTo, type ClusterModel, startClusterModel } from './model.js';

const TOKEN = 'cluster-test-token-0123456789';
const OWNER = 5001;
const CRON_CHAT = 5002;
const CRON_PROMPT = 'scheduled tick';
const TASK = 'cluster-tick';
const WORKERS = ['w1', 'w2', 'w3'];
const TRIALS = 3;
const TURNS_PER_TRIAL = 6;

describe('Switchyard on a Temporal cluster (PostgreSQL): two gateway hosts, three workers', () => {
  const address = inject('clusterAddress');
  const clusterEnv = inject('clusterEnv');
  const taskQueue = uniqueTaskQueue('cluster');
  const processes: Spawned[] = [];
  const workers = new Map<string, Spawned>();
  const workerEnv = new Map<string, NodeJS.ProcessEnv>();
  let model: ClusterModel;
  let telegram: FakeTelegram;
  let homeA: string;
  let baseA: string;
  let baseB: string;
  let client: Client;
  let connection: Connection;

  const cronYaml = [
    'cron:',
    '  tasks:',
    `    - id: ${TASK}`,
    '      schedule: { kind: every, everyMs: 5000 }',
    `      payload: { kind: agentTurn, message: "${CRON_PROMPT}" }`,
    `      delivery: { mode: announce, channel: telegram, to: "${CRON_CHAT}" }`,
    '      catchupWindow: 1m',
  ];
  const telegramYaml = () => [
    'channels:',
    '  telegram:',
    `    botToken: "${telegram.botToken}"`,
    `    apiRoot: "${telegram.apiRoot}"`,
    '    dmPolicy: allowlist',
    `    allowFrom: ["${OWNER}"]`,
  ];

  const home = (name: string, yaml: string) => {
    const dir = mkdtempSync(join(tmpdir(), `switchyard-cluster-${name}-`));
    writeFileSync(join(dir, 'switchyard.yaml'), yaml);
    return dir;
  };
  const baseEnv = {
    TEMPORAL_ADDRESS: address,
    SWITCHYARD_TASK_QUEUE: taskQueue,
    SWITCHYARD_GATEWAY_TOKEN: TOKEN,
    // Hosts with data dirs of their own share the payload codec's key, as docs/encryption.md says.
    SWITCHYARD_ENCRYPTION_KEYS: newKeyLine(),
  };

  async function startWorker(name: string): Promise<Spawned> {
    const worker = spawnSwitchyard(['worker'], workerEnv.get(name)!);
    processes.push(worker);
    workers.set(name, worker);
    await worker.waitFor(/worker ready/, 120_000);
    return worker;
  }

  const cluster = (...args: string[]) =>
    execFileSync(CLUSTER_SCRIPT, args, { env: { ...process.env, ...clusterEnv }, stdio: 'inherit' });

  beforeAll(async () => {
    model = await startClusterModel(150);
    telegram = await startFakeTelegram();
    // Host A: the OpenAI-compatible API, web chat, OpenClaw protocol, hooks, and the schedules.
    homeA = home('gw-a', model.yaml('gw-a', [...telegramYaml(), ...cronYaml]));
    const portA = await freePort();
    const gatewayA = spawnSwitchyard(['gateway'], {
      ...baseEnv,
      SWITCHYARD_HOME: homeA,
      SWITCHYARD_GATEWAY_PORT: String(portA),
      SWITCHYARD_GATEWAY_CHANNELS: 'webchat,openai,openclaw,hook,cron',
    });
    // Host B: Telegram only (the same switchyard.yaml otherwise, as a second machine would have).
    const homeB = home('gw-b', model.yaml('gw-b', [...telegramYaml(), ...cronYaml]));
    const portB = await freePort();
    baseB = `http://127.0.0.1:${portB}`;
    const gatewayB = spawnSwitchyard(['gateway'], {
      ...baseEnv,
      SWITCHYARD_HOME: homeB,
      SWITCHYARD_GATEWAY_PORT: String(portB),
      SWITCHYARD_GATEWAY_CHANNELS: 'telegram',
    });
    processes.push(gatewayA, gatewayB);
    for (const name of WORKERS) {
      workerEnv.set(name, { ...baseEnv, SWITCHYARD_HOME: home(name, model.yaml(name)) });
    }
    await Promise.all([
      gatewayA.waitFor(/gateway listening/, 120_000),
      gatewayB.waitFor(/gateway listening/, 120_000),
      ...WORKERS.map((name) => startWorker(name)),
    ]);
    baseA = `http://127.0.0.1:${portA}`;
    connection = await Connection.connect({ address });
    client = new Client({
      connection,
      dataConverter: dataConverterOf(loadConfig({ home: homeA, env: baseEnv })),
    });
  });

  afterAll(async () => {
    model?.onCall(undefined);
    for (const p of processes) await p.kill('SIGTERM');
    await connection?.close();
    await telegram?.close();
    await model?.close();
  });

  /** One user turn on host A's OpenAI API: the answer text (the HTTP call waits for it). */
  async function ask(user: string, text: string): Promise<string> {
    const res = await fetch(`${baseA}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'main', user, messages: [{ role: 'user', content: text }] }),
    });
    const body = (await res.json()) as { choices?: Array<{ message: { content: string } }> };
    if (res.status !== 200) throw new Error(`${user}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body.choices![0]!.message.content;
  }

  const telegramReplies = (chatId: number, containing?: string) =>
    telegram
      .calls('sendMessage')
      .filter((c) => String(c.body.chat_id) === String(chatId))
      .map((c) => String(c.body.text))
      .filter((text) => containing === undefined || text.includes(containing));

  /** host A's outbox rows for an OpenAI-API user (none: its answers are update results). */
  const outboxRows = (user: string) => {
    const db = new Database(join(homeA, 'gateway.db'), { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare("SELECT key, state FROM outbox WHERE channel = 'openai' AND chat_id = ?")
        .all(user) as Array<{ key: string; state: string }>;
    } finally {
      db.close();
    }
  };

  /**
   * A burst of turns on both hosts while `disrupt` strikes at the `at`-th model call: every
   * OpenAI turn answers its own question (the update's result, no outbox row), every Telegram
   * message gets one reply.
   */
  async function burst(label: string, disrupt: (call: { worker: string }) => Promise<void>) {
    const at = Math.floor(Math.random() * TURNS_PER_TRIAL);
    let seen = 0;
    let struck: Promise<void> | undefined;
    // The `at`-th model call of this burst is held until the disruption is over: it strikes mid-turn.
    model.onCall((call) => {
      if (struck || !call.prompt.startsWith(`${label} `) || seen++ !== at) return undefined;
      struck = disrupt(call);
      return struck;
    });
    const users = Array.from({ length: TURNS_PER_TRIAL }, (_, i) => `${label}-user-${i}`);
    const tg = `${label} telegram`;
    const [answers] = await Promise.all([
      Promise.all(users.map((user) => ask(user, `${label} question from ${user}`))),
      telegram.inject({ chatId: OWNER, fromId: OWNER, fromName: 'Owner', text: tg }),
    ]);
    model.onCall(undefined);
    expect(struck, `${label}: the disruption never struck`).toBeDefined();
    await struck;
    expect(answers).toEqual(users.map((user) => answerTo(`${label} question from ${user}`)));
    await eventually(() => (telegramReplies(OWNER, tg).length > 0 ? true : undefined), 120_000);
    // The OpenAI API's turns run inside their session and answer through its `session.turn`
    // update (the turn fast path): each request got its own answer above, once, and nothing of
    // theirs went through host A's outbox.
    for (const user of users) expect(outboxRows(user), user).toEqual([]);
    return { tg };
  }

  it('answers on the OpenAI API (host A) and on Telegram (host B), each reply from its own host', async () => {
    expect(await ask('first-user', 'hello cluster')).toBe(answerTo('hello cluster'));
    await telegram.inject({ chatId: OWNER, fromId: OWNER, fromName: 'Owner', text: 'hello from telegram' });
    const reply = await eventually(() => telegramReplies(OWNER, 'hello from telegram')[0], 60_000);
    expect(reply).toBe(answerTo('hello from telegram'));
    // Host B has no OpenAI API (gateway.channels): no request can wait there for a reply that
    // host A's queue takes.
    const onB = await fetch(`${baseB}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'main', user: 'b-user', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(onB.status).toBe(404);
  });

  it(`loses and doubles nothing when a worker is SIGKILLed in the middle of a turn (${TRIALS} trials)`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const killed: string[] = [];
      const { tg } = await burst(`kill${trial}`, async ({ worker }) => {
        // The worker that is waiting for this model answer dies; a replacement starts.
        const victim = workers.get(worker)!;
        victim.child.kill('SIGKILL');
        await victim.exited;
        killed.push(worker);
        await startWorker(worker);
      });
      expect(killed).toHaveLength(1);
      expect(telegramReplies(OWNER, tg)).toEqual([answerTo(tg)]);
      // The killed call was made again by a surviving or the restarted worker.
      const label = `kill${trial} `;
      const prompts = model.calls.filter((c) => c.prompt.startsWith(label)).map((c) => c.prompt);
      expect(prompts.length).toBeGreaterThan(new Set(prompts).size);
      console.log(
        `[cluster] kill trial ${trial}: SIGKILLed ${killed[0]} in a model call; ${new Set(prompts).size} messages, ${prompts.length} model calls, every one answered once`,
      );
    }
  });

  it(`loses and doubles nothing when the Temporal server restarts in the middle of turns (${TRIALS} trials)`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      // Graceful (SIGTERM) and crash (SIGKILL) restarts, alternately.
      const kill = trial % 2 === 1;
      let downMs = 0;
      const { tg } = await burst(`restart${trial}`, async () => {
        const stopped = Date.now();
        cluster('stop-temporal', ...(kill ? ['--kill'] : []));
        cluster('start-temporal');
        downMs = Date.now() - stopped;
      });
      expect(telegramReplies(OWNER, tg)).toEqual([answerTo(tg)]);
      console.log(
        `[cluster] restart trial ${trial}: server ${kill ? 'SIGKILLed' : 'stopped (SIGTERM)'} in a model call, back after ${downMs} ms; ${TURNS_PER_TRIAL + 1} messages answered once`,
      );
    }
  });

  it('fires the Schedule once per occurrence, not once per worker or gateway', async () => {
    // It has been firing every 5 s through the crashes above; stop it and let the last runs end.
    const handle = client.schedule.getHandle(`cron:${TASK}`);
    await eventually(() => (telegramReplies(CRON_CHAT).length >= 2 ? true : undefined), 60_000);
    await handle.pause('cluster test: counting');
    const running = async () => {
      const { count } = await client.workflow.count(
        `TemporalScheduledById = "cron:${TASK}" AND ExecutionStatus = "Running"`,
      );
      return count;
    };
    await expect.poll(running, { timeout: 120_000, interval: 500 }).toBe(0);
    const { info } = await handle.describe();
    const fired = info.numActionsTaken;
    // Every occurrence that started a run delivered one message, and ran the model once or more
    // (more only when a worker died during it).
    await expect.poll(() => telegramReplies(CRON_CHAT).length, { timeout: 30_000 }).toBe(fired);
    expect(telegramReplies(CRON_CHAT).every((text) => text === answerTo(CRON_PROMPT))).toBe(true);
    expect(fired).toBeGreaterThanOrEqual(2);
    console.log(
      `[cluster] schedule every 5 s: ${fired} occurrences started a run, ${telegramReplies(CRON_CHAT).length} Telegram messages (skipped while a run was still going: ${info.numActionsSkippedOverlap})`,
    );
  });
});
