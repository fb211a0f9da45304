/**
 * `npm run chaos`: does every message get exactly one reply while processes die?
 *
 * Starts `switchyard up` (which supervises the Temporal dev server, the worker and the gateway) on
 * private ports in a throwaway data dir, with crabline's Telegram server (the real Bot API, in this
 * process) and a wire model (OpenAI's chat-completions protocol, answering each message by its
 * number). Many chats each send their messages one at a time — the next once the previous one is
 * answered, or given up on — while a seeded schedule SIGKILLs the worker, the gateway and the dev
 * server at random moments, a share of the gateway kills at the instant crabline has stored a
 * reply and before the gateway hears back (inside the send path: the outbox's uncertain window).
 *
 * Every reply is matched to its message by Telegram's reply-to. Per message: answered once,
 * answered late (after the wait), lost, duplicated, and whether its send was marked uncertain in
 * the gateway's outbox. After the last message, every chat sends a sentinel; once each sentinel
 * is answered, every earlier turn of that chat has ended, so no reply can still be on its way
 * (ordering, not sleeping). Prints a table, writes JSON, exits 1 on any loss or duplicate.
 *
 *   node dist/bench/chaos.js [--messages 1000] [--kills 100] [--chats 20] [--seed N] [--short]
 *                            [--wait-ms 180000] [--json file]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTelegramServer } from '@openclaw/crabline';
import Database from 'better-sqlite3';
import { projectRoot } from '../config/home.js';
import { findTemporalCli, HOW_TO_GET_THE_CLI } from '../temporal/cli-path.js';
import { startFakeModel, stopFakeModels, wireModelYaml } from './fake-model.js';
import { buildInfo, load1m, machineInfo } from './report.js';
import { freePort, percentile, round, sleep } from './util.js';

export type Target = 'worker' | 'gateway' | 'temporal';
const TARGETS: Target[] = ['worker', 'gateway', 'temporal'];
/** How the fake model's answer names the messages it answers. */
const TAGS = /chaos #\d+|sentinel of chat \d+/g;

export interface ChaosOptions {
  messages: number;
  kills: number;
  chats: number;
  seed: number;
  /** How long a chat waits for a reply before it sends its next message (the reply may still come: late). */
  waitMs: number;
  json?: string;
}

interface Kill {
  target: Target;
  /** `send`: at the moment crabline stored a reply, before the gateway hears back. */
  moment: 'random' | 'send';
  /** Sent when this message goes out (plus delayMs). */
  afterMessage: number;
  delayMs: number;
  pid?: number;
  atMs?: number;
  /** Why it did not happen. */
  skipped?: string;
}

interface Message {
  index: number;
  chatId: number;
  messageId: number;
  text: string;
  sentAt?: number;
  replies: Array<{ atMs: number; text: string }>;
  uncertain: boolean;
  sentinel: boolean;
  /**
   * No reply of its own, but the reply to message `index` (same chat) names it: the queue mode
   * `collect` folded it into that message's turn, whose model call had it in its prompt.
   */
  batchedInto?: { index: number; atMs: number };
}

/** `batched`: answered by the reply to an earlier message of its chat, whose turn it was folded into. */
export type Outcome = 'once' | 'late' | 'batched' | 'lost' | 'duplicated';

export interface ChaosReport {
  kind: 'chaos';
  options: ChaosOptions;
  build: ReturnType<typeof buildInfo>;
  machine: ReturnType<typeof machineInfo>;
  load1mAtEnd: number;
  durationS: number;
  outcomes: Record<Outcome, number>;
  uncertain: { total: number; delivered: number; notDelivered: number };
  sentinels: { sent: number; answeredOnce: number };
  strayReplies: number;
  /** Messages answered with something else than the model's answer (a failed turn's apology). */
  errorReplies: number;
  firstErrorReply?: string;
  /** Uncertain outbox rows that belong to no message of the run. */
  uncertainOfNoMessage: number;
  kills: {
    total: number;
    byTarget: Record<Target, number>;
    insideSend: number;
    skipped: number;
  };
  restarts: Record<Target, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  problems: Array<{
    index: number;
    chatId: number;
    outcome: Outcome;
    replies: number;
    uncertain: boolean;
    batchedInto?: number;
  }>;
  killLog: Kill[];
  /** Wall-clock start (ISO): every atMs/sentAtMs of this report counts from it. */
  startedAt: string;
  /** Per message: when it went out and when each reply was seen (ms from startedAt). */
  timeline: Array<{
    index: number;
    chatId: number;
    sentAtMs: number;
    repliesAtMs: number[];
    batchedInto?: number;
    batchReplyAtMs?: number;
  }>;
}

/** mulberry32: a small seeded generator, so a failing run's schedule can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The kill schedule: `kills` kills spread evenly over the messages (one in each slice, at a random
 * message of it and a random delay after it went out), the targets taken in turn from a shuffled
 * deck so each process gets its third; half the gateway kills wait for the send path.
 */
export function killSchedule(options: Pick<ChaosOptions, 'messages' | 'kills' | 'seed'>): Kill[] {
  const random = seeded(options.seed);
  const deck: Target[] = [];
  for (let i = 0; i < options.kills; i++) deck.push(TARGETS[i % TARGETS.length]!);
  for (let i = deck.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deck[i], deck[j]] = [deck[j]!, deck[i]!];
  }
  const slice = options.messages / Math.max(1, options.kills);
  return deck.map((target, i) => ({
    target,
    moment: target === 'gateway' && random() < 0.5 ? 'send' : 'random',
    afterMessage: Math.min(options.messages - 1, Math.floor(i * slice + random() * slice)),
    delayMs: Math.floor(random() * 2_000),
  }));
}

function parseArgs(argv: string[]): ChaosOptions {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  };
  const short = argv.includes('--short');
  const number = (name: string, fallback: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} wants a whole number, got ${raw}`);
    return n;
  };
  return {
    messages: number('messages', short ? 60 : 1_000),
    kills: number('kills', short ? 10 : 100),
    chats: Math.max(1, number('chats', short ? 6 : 20)),
    seed: number('seed', Math.floor(Math.random() * 2 ** 31)),
    waitMs: number('wait-ms', 180_000),
    ...(value('json') ? { json: value('json')! } : {}),
  };
}

const isAlive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const say = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

/** What `switchyard up` said: the current pid of each process, restarts, readiness. */
class UpWatcher {
  readonly pids: Partial<Record<Target, number>> = {};
  readonly restarts: Record<Target, number> = { worker: 0, gateway: 0, temporal: 0 };
  gatewayUrl: string | undefined;
  ready = false;
  readonly lines: string[] = [];

  constructor(child: ChildProcess) {
    const patterns: Array<[RegExp, (m: RegExpExecArray) => void]> = [
      [/Temporal dev server pid (\d+) serving/, (m) => (this.pids.temporal = Number(m[1]))],
      [/Temporal dev server is back \(pid (\d+)\)/, (m) => (this.pids.temporal = Number(m[1]))],
      [/^\[worker\] worker ready: .*pid (\d+)/, (m) => (this.pids.worker = Number(m[1]))],
      [
        /^\[gateway\] gateway listening on (http:\/\/\S+) .*pid (\d+)/,
        (m) => {
          this.gatewayUrl = m[1];
          this.pids.gateway = Number(m[2]);
        },
      ],
      [/^Switchyard is up\./, () => (this.ready = true)],
      [
        /^\[supervisor\] (worker|gateway|Temporal dev server) exited/,
        (m) => {
          const target: Target = m[1] === 'Temporal dev server' ? 'temporal' : (m[1] as Target);
          this.restarts[target]++;
          this.pids[target] = undefined;
        },
      ],
    ];
    const onLine = (line: string) => {
      this.lines.push(`${new Date().toISOString()} ${line}`);
      for (const [pattern, apply] of patterns) {
        const m = pattern.exec(line);
        if (m) apply(m);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const root = projectRoot();
  if (!findTemporalCli()) throw new Error(HOW_TO_GET_THE_CLI);
  const build = buildInfo(root);
  const loadAtStart = load1m();
  const tmp = mkdtempSync(join(tmpdir(), 'switchyard-chaos-'));
  const home = join(tmp, 'home');
  mkdirSync(home, { recursive: true });
  const started = Date.now();
  const clock = () => Date.now() - started;

  const messages: Message[] = [];
  const byMessageId = new Map<number, Message>();
  const byTag = new Map<string, Message>();
  const namedIn = (text: string) =>
    (text.match(TAGS) ?? []).map((tag) => byTag.get(tag)).filter((m): m is Message => !!m);
  const waiting = new Map<number, () => void>();
  let stray = 0;
  let strayUncertain = 0;
  let killOnSend: (() => void) | undefined;
  const telegram = await startTelegramServer({
    recorderPath: join(tmp, 'recorder.jsonl'),
    botUsername: 'chaos_bot',
    botId: 737373,
    onEvent: (event) => {
      if (event.type !== 'api' || !event.path.endsWith('/sendMessage')) return;
      const body = event.body as {
        chat_id?: unknown;
        text?: unknown;
        reply_parameters?: { message_id?: unknown };
      };
      const message = byMessageId.get(Number(body.reply_parameters?.message_id));
      if (!message || String(message.chatId) !== String(body.chat_id)) stray++;
      else {
        const text = String(body.text);
        message.replies.push({ atMs: clock(), text });
        waiting.get(message.messageId)?.();
        // A reply that names more messages than its own answered a batch (see the model below).
        for (const other of namedIn(text)) {
          // Only later messages of the same chat can wait behind this one and join its turn.
          if (other.index <= message.index || other.chatId !== message.chatId || other.batchedInto) continue;
          other.batchedInto = { index: message.index, atMs: clock() };
          waiting.get(other.messageId)?.();
        }
      }
      // Inside the send path: crabline has stored the message; the gateway has not heard back.
      const kill = killOnSend;
      killOnSend = undefined;
      kill?.();
    },
  });
  // Each answer names the messages its turn was asked (the prompt's last user message: one message,
  // or a `collect` batch), in order; a short random wait widens the model-call window.
  const model = await startFakeModel({
    answer: (prompt) => `Answer to ${prompt.match(TAGS)?.join(', ') ?? 'something'}.`,
    delayMs: () => Math.floor(Math.random() * 300),
  });
  const { manifest } = telegram;
  writeFileSync(
    join(home, 'switchyard.yaml'),
    wireModelYaml(model.url, [
      'channels:',
      '  telegram:',
      `    botToken: "${manifest.botToken}"`,
      `    apiRoot: "${manifest.endpoints.apiRoot}"`,
      '    dmPolicy: open',
      '    allowFrom: ["*"]',
    ]),
  );

  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('SWITCHYARD_') && !key.startsWith('TEMPORAL_')) env[key] = value;
  }
  Object.assign(env, {
    SWITCHYARD_HOME: home,
    SWITCHYARD_GATEWAY_HOST: '127.0.0.1',
    SWITCHYARD_GATEWAY_PORT: '0',
    SWITCHYARD_TEMPORAL_PORT: String(await freePort()),
    SWITCHYARD_TEMPORAL_UI_PORT: String(await freePort()),
    TEMPORAL_ADDRESS: '',
  });
  const up = spawn(process.execPath, [join(root, 'bin', 'switchyard.js'), 'up'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const upExited = new Promise<void>((resolve) => up.once('exit', () => resolve()));
  const watcher = new UpWatcher(up);
  const kills = killSchedule(options);
  const pendingKills = new Set<Promise<void>>();

  const stopEverything = async () => {
    killOnSend = undefined;
    if (up.exitCode === null && up.signalCode === null) {
      up.kill('SIGINT');
      const timer = setTimeout(() => up.kill('SIGKILL'), 60_000);
      await upExited;
      clearTimeout(timer);
    }
    // Whatever `up` could not stop (it was SIGKILLed itself): by PID.
    for (const pid of Object.values(watcher.pids)) if (isAlive(pid)) process.kill(pid!, 'SIGKILL');
    await telegram.close().catch(() => {});
    await stopFakeModels();
  };
  const onSignal = () => void stopEverything().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);

  try {
    const deadline = Date.now() + 300_000;
    while (!watcher.ready) {
      if (up.exitCode !== null) throw new Error(`switchyard up exited:\n${watcher.lines.join('\n')}`);
      if (Date.now() > deadline)
        throw new Error(`switchyard up not ready in 300 s:\n${watcher.lines.join('\n')}`);
      await sleep(200);
    }
    say(`switchyard up is ready (gateway ${watcher.gatewayUrl}); seed ${options.seed}`);

    const until = async (condition: () => boolean, timeoutMs: number) => {
      const end = Date.now() + timeoutMs;
      while (!condition() && Date.now() < end) await sleep(100);
      return condition();
    };
    // A pid once killed is dead even while the system has not reaped it yet: never counted twice.
    const killed = new Set<number>();
    const running = (target: Target) => {
      const pid = watcher.pids[target];
      return pid !== undefined && !killed.has(pid) && isAlive(pid);
    };
    const sigkill = (kill: Kill, pid: number) => {
      killed.add(pid);
      process.kill(pid, 'SIGKILL');
      kill.pid = pid;
      kill.atMs = clock();
    };
    const perform = async (kill: Kill) => {
      await sleep(kill.delayMs);
      // A process that is restarting is killed once it is back (at a random moment of its new run).
      if (!(await until(() => running(kill.target), 300_000))) {
        kill.skipped = `${kill.target} did not come back within 300 s`;
        return;
      }
      if (kill.moment === 'send') {
        // One armed at a time: wait for an earlier one to fire.
        await until(() => killOnSend === undefined, 300_000);
        const fired = new Promise<void>((resolve) => {
          killOnSend = () => {
            if (running('gateway')) sigkill(kill, watcher.pids.gateway!);
            resolve();
          };
        });
        const timedOut = sleep(120_000).then(() => 'timeout' as const);
        if ((await Promise.race([fired, timedOut])) === 'timeout') {
          killOnSend = undefined;
          kill.skipped = 'no reply was sent within 120 s of arming';
        } else if (kill.pid === undefined) kill.skipped = 'the gateway was already down at the send';
        return;
      }
      sigkill(kill, watcher.pids[kill.target]!);
    };

    const send = async (message: Message) => {
      const done = new Promise<void>((resolve) => waiting.set(message.messageId, resolve));
      message.sentAt = clock();
      const res = await fetch(manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-crabline-admin-token': manifest.adminToken },
        body: JSON.stringify({
          chatId: message.chatId,
          fromId: message.chatId,
          fromName: `Chat ${message.chatId}`,
          messageId: message.messageId,
          text: message.text,
        }),
      });
      if (!res.ok) throw new Error(`crabline refused message ${message.index}: ${await res.text()}`);
      if (message.replies.length > 0) waiting.get(message.messageId)?.();
      await Promise.race([done, sleep(options.waitMs)]);
      waiting.delete(message.messageId);
    };

    const chatIds = Array.from({ length: options.chats }, (_, i) => 810_000 + i);
    for (let i = 0; i < options.messages; i++) {
      const chatId = chatIds[i % options.chats]!;
      const message: Message = {
        index: i,
        chatId,
        messageId: 1_000 + i,
        text: `chaos #${i} from chat ${chatId}`,
        replies: [],
        uncertain: false,
        sentinel: false,
      };
      messages.push(message);
      byMessageId.set(message.messageId, message);
      byTag.set(`chaos #${i}`, message);
    }
    let sentCount = 0;
    let answered = 0;
    const lanes = chatIds.map(async (chatId) => {
      for (const message of messages.filter((m) => m.chatId === chatId)) {
        for (const kill of kills.filter((k) => k.afterMessage === message.index)) {
          const running = perform(kill);
          pendingKills.add(running);
          void running.finally(() => pendingKills.delete(running));
        }
        await send(message);
        sentCount++;
        if (message.replies.length > 0) answered++;
        if (sentCount % Math.max(1, Math.floor(options.messages / 20)) === 0) {
          const done = kills.filter((k) => k.atMs !== undefined).length;
          say(
            `${sentCount}/${options.messages} sent, ${answered} answered, ${done} kill(s) so far (${Math.round(clock() / 1000)} s)`,
          );
        }
      }
    });
    // Messages go out in index order only roughly (each chat at its own pace); the kill of
    // message i is armed when message i goes out, whichever chat it is in.
    await Promise.all(lanes);
    await Promise.all([...pendingKills]);

    // Sentinels: one more message per chat; once it is answered, every turn before it has ended.
    const sentinels: Message[] = chatIds.map((chatId, i) => ({
      index: options.messages + i,
      chatId,
      messageId: 900_000 + i,
      text: `sentinel of chat ${chatId}`,
      replies: [],
      uncertain: false,
      sentinel: true,
    }));
    for (const s of sentinels) {
      byMessageId.set(s.messageId, s);
      byTag.set(s.text, s);
    }
    say('all messages sent and all kills done; one sentinel per chat');
    await Promise.all(sentinels.map((s) => send(s)));
    await until(() => sentinels.every((s) => s.replies.length > 0 || s.batchedInto), options.waitMs);

    // Which sends the gateway's outbox marked uncertain: the key of a turn's reply holds the
    // turn's workflow id, which ends in the inbound message id (`turn:<session>:<id>:<step>:<i>`).
    const db = new Database(join(home, 'gateway.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db
        .prepare<[], { key: string; chat_id: string }>(
          "SELECT key, chat_id FROM outbox WHERE state = 'uncertain'",
        )
        .all();
      for (const row of rows) {
        const m = row.key
          .split(':')
          .map((part) => byMessageId.get(Number(part)))
          .find((candidate) => candidate && String(candidate.chatId) === row.chat_id);
        if (m) m.uncertain = true;
        else strayUncertain++;
      }
    } finally {
      db.close();
    }

    const outcomeOf = (m: Message): Outcome =>
      m.replies.length === 0
        ? m.batchedInto
          ? 'batched'
          : 'lost'
        : m.replies.length > 1
          ? 'duplicated'
          : m.replies[0]!.atMs - m.sentAt! > options.waitMs
            ? 'late'
            : 'once';
    const outcomes: Record<Outcome, number> = { once: 0, late: 0, batched: 0, lost: 0, duplicated: 0 };
    for (const m of messages) outcomes[outcomeOf(m)]++;
    // A reply that is not the model's answer: the turn failed and the pipeline apologised.
    // The model's answer to the message (first), possibly with the messages batched after it.
    const tagOf = (m: Message) => (m.sentinel ? m.text : `chaos #${m.index}`);
    const isAnswer = (m: Message, text: string) =>
      text.startsWith(`Answer to ${tagOf(m)}`) &&
      (text === `Answer to ${tagOf(m)}.` || text.startsWith(`Answer to ${tagOf(m)}, `));
    const wrong = [...messages, ...sentinels].filter((m) => m.replies.some((r) => !isAnswer(m, r.text)));
    const latencies = messages.filter((m) => m.replies.length > 0).map((m) => m.replies[0]!.atMs - m.sentAt!);
    const done = kills.filter((k) => k.atMs !== undefined);
    const uncertain = messages.filter((m) => m.uncertain);
    return {
      kind: 'chaos',
      options,
      build,
      machine: machineInfo(loadAtStart),
      load1mAtEnd: load1m(),
      durationS: round(clock() / 1000),
      outcomes,
      uncertain: {
        total: uncertain.length,
        delivered: uncertain.filter((m) => m.replies.length > 0).length,
        notDelivered: uncertain.filter((m) => m.replies.length === 0).length,
      },
      sentinels: {
        sent: sentinels.length,
        answeredOnce: sentinels.filter(
          (s) => s.replies.length === 1 || (s.replies.length === 0 && s.batchedInto),
        ).length,
      },
      strayReplies: stray,
      errorReplies: wrong.length,
      firstErrorReply: wrong[0]?.replies.find((r) => !isAnswer(wrong[0]!, r.text))?.text,
      uncertainOfNoMessage: strayUncertain,
      kills: {
        total: done.length,
        byTarget: {
          worker: done.filter((k) => k.target === 'worker').length,
          gateway: done.filter((k) => k.target === 'gateway').length,
          temporal: done.filter((k) => k.target === 'temporal').length,
        },
        insideSend: done.filter((k) => k.moment === 'send').length,
        skipped: kills.filter((k) => k.skipped).length,
      },
      restarts: { ...watcher.restarts },
      latencyMs: {
        p50: round(percentile(latencies, 50), 0),
        p90: round(percentile(latencies, 90), 0),
        p99: round(percentile(latencies, 99), 0),
        max: latencies.length ? Math.max(...latencies) : 0,
      },
      problems: [...messages, ...sentinels]
        .filter((m) => outcomeOf(m) !== 'once' || m.uncertain)
        .map((m) => ({
          index: m.index,
          chatId: m.chatId,
          outcome: outcomeOf(m),
          replies: m.replies.length,
          uncertain: m.uncertain,
          ...(m.batchedInto ? { batchedInto: m.batchedInto.index } : {}),
        })),
      killLog: kills,
      startedAt: new Date(started).toISOString(),
      timeline: [...messages, ...sentinels].map((m) => ({
        index: m.index,
        chatId: m.chatId,
        sentAtMs: m.sentAt ?? -1,
        repliesAtMs: m.replies.map((r) => r.atMs),
        ...(m.batchedInto ? { batchedInto: m.batchedInto.index, batchReplyAtMs: m.batchedInto.atMs } : {}),
      })),
    };
  } catch (error) {
    say(`switchyard up said:\n${watcher.lines.slice(-40).join('\n')}`);
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
    await stopEverything();
    if (process.env.SWITCHYARD_CHAOS_KEEP) {
      // What `switchyard up` printed (restarts and their delays), stamped: for reading the logs.
      writeFileSync(join(tmp, 'up.log'), `${watcher.lines.join('\n')}\n`);
      say(`kept ${tmp}`);
    } else rmSync(tmp, { recursive: true, force: true });
  }
}

export function printChaos(report: ChaosReport): void {
  const o = report.outcomes;
  const k = report.kills;
  const rows: Array<[string, string]> = [
    ['seed', String(report.options.seed)],
    ['messages / chats', `${report.options.messages} / ${report.options.chats}`],
    ['answered once', String(o.once)],
    ['answered late', `${o.late} (after ${report.options.waitMs / 1000} s)`],
    [
      'answered in a batch',
      `${o.batched} (no reply of its own; the reply to an earlier message of its chat names it)`,
    ],
    ['lost', String(o.lost)],
    ['duplicated', String(o.duplicated)],
    [
      'marked uncertain',
      `${report.uncertain.total} (delivered ${report.uncertain.delivered}, not delivered ${report.uncertain.notDelivered})`,
    ],
    ['sentinels answered once', `${report.sentinels.answeredOnce}/${report.sentinels.sent}`],
    ['stray replies', String(report.strayReplies)],
    [
      'error replies',
      `${report.errorReplies}${report.firstErrorReply ? ` (first: ${report.firstErrorReply.slice(0, 120)})` : ''}`,
    ],
    [
      'kills',
      `${k.total} (worker ${k.byTarget.worker}, gateway ${k.byTarget.gateway} of which ${k.insideSend} inside the send, dev server ${k.byTarget.temporal}; ${k.skipped} skipped)`,
    ],
    [
      'restarts seen',
      `worker ${report.restarts.worker}, gateway ${report.restarts.gateway}, dev server ${report.restarts.temporal}`,
    ],
    [
      'latency ms',
      `p50 ${report.latencyMs.p50}, p90 ${report.latencyMs.p90}, p99 ${report.latencyMs.p99}, max ${report.latencyMs.max}`,
    ],
    ['duration', `${report.durationS} s (load ${report.machine.loadAvg1m.start} → ${report.load1mAtEnd})`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
  for (const p of report.problems.filter((p) => p.outcome !== 'once'))
    console.log(
      `  message ${p.index} (chat ${p.chatId}): ${p.outcome}${p.batchedInto !== undefined ? ` into #${p.batchedInto}` : ''}, ${p.replies} repl(ies)${p.uncertain ? ', uncertain' : ''}`,
    );
}

export const failed = (report: ChaosReport) =>
  report.errorReplies > 0 ||
  report.outcomes.lost > 0 ||
  report.outcomes.duplicated > 0 ||
  report.sentinels.answeredOnce < report.sentinels.sent;

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  say(
    `${options.messages} messages over ${options.chats} chats, ${options.kills} kills, seed ${options.seed} (replay with --seed ${options.seed})`,
  );
  const report = await runChaos(options);
  printChaos(report);
  const file =
    options.json ??
    join(projectRoot(), 'bench', 'results', `chaos-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  say(`report: ${file}`);
  return failed(report) ? 1 : 0;
}

if (process.argv[1] && /chaos\.js$/.test(process.argv[1])) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`[chaos] failed: ${(error as Error).stack ?? error}`);
      process.exit(2);
    },
  );
}
