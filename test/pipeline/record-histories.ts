/**
 * Records one real run of every shipped pipeline (pipelines/default.yaml and
 * pipelines/examples/*.yaml) and exports its history into test/replay/histories/, so the
 * replay test proves the current interpreter still replays them. Re-run after changing the
 * interpreter on purpose (and guard the change with `patched()`), or name the pipelines to
 * record only those (a new example), keeping the older recordings as they are:
 *
 *   npm run build && node dist/test/pipeline/record-histories.js [name …]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fauxAssistantMessage, fauxToolCall } from '@mariozechner/pi-ai';
import { defaultPipelineDirs, loadPipelineLibrary } from '../../client/pipelines.js';
import { projectRoot } from '../../config/home.js';
import { findTemporalCli } from '../../temporal/cli-path.js';
import { startDevServer } from '../../temporal/dev-server.js';
import type { PipelineState } from '../../workflows/pipeline/pipeline-api.js';
import { type FauxAgent, fauxAgent } from '../helpers/faux-agent.js';
import { withoutStackTraces } from '../helpers/histories.js';
import { freePort } from '../helpers/ports.js';
import { startRecordingChannel } from '../helpers/recording-channel.js';
import { startHarness } from './harness.js';

/** What each shipped pipeline is run with. */
export const exampleRuns: Record<
  string,
  {
    inputs: Record<string, unknown>;
    signal?: string;
    payload?: unknown;
    /** The model's answers for this run, when plain text answers would not exercise it. */
    script?: (agent: FauxAgent) => void;
  }
> = {
  default: { inputs: {} },
  approval: {
    inputs: { request: 'buy a domain', owner_chat: 'owner' },
    signal: 'approval',
    payload: { approved: true },
  },
  digest: {
    inputs: { feeds: ['a.example', 'b.example', 'c.example', 'd.example'], chat: 'me', pause: '200ms' },
  },
  fanout: { inputs: { question: 'what is Temporal?' } },
  research: { inputs: { question: 'why durable execution?' } },
  resilient: { inputs: { text: 'what did I say yesterday?' } },
  summarise: { inputs: { text: 'A long text.', sentences: 1 } },
  // The model calls the `summarise` pipeline as a tool (a child workflow), then answers.
  toolbox: {
    inputs: {},
    script: (agent) =>
      agent.faux.setResponses([
        fauxAssistantMessage([fauxToolCall('summarise', { text: 'A long text.', sentences: 1 })], {
          stopReason: 'toolUse',
        }),
        ...Array.from({ length: 4 }, () => fauxAssistantMessage('faux answer after the tool')),
      ]),
  },
};

export const exampleMessage = {
  channel: 'telegram',
  accountId: 'default',
  chat: { id: '42', kind: 'direct' },
  sender: { id: '42', name: 'Ada' },
  messageId: 'msg-1',
  platformId: 'telegram:42:msg-1',
  text: 'hello there',
  attachments: [{ id: 'att-1', kind: 'image', mime: 'image/png', sha256: 'c4'.repeat(32), name: 'cat.png' }],
  mentions: [],
  wasMentioned: true,
  timestamp: Date.parse('2026-01-01T00:00:00Z'),
};

async function main() {
  const cliPath = findTemporalCli();
  if (!cliPath) throw new Error('no temporal CLI found');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-record-'));
  const server = await startDevServer({
    cliPath,
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    port: await freePort(),
    headless: true,
  });
  // The agent answers with the faux model; replies go to a recording `telegram` channel (this
  // dev server is the recorder's own, so the shared queue name is safe here).
  const agent = fauxAgent({ agents: ['main', 'fast', 'careful'] });
  agent.answerWith((prompt) => `faux answer to: ${prompt.slice(0, 60)}`);
  const h = await startHarness(server.address, 'record', { agent: { config: agent.config } });
  const chat = await startRecordingChannel(server.address, h.taskQueue, 'telegram', h.dataConverter);
  try {
    const library = loadPipelineLibrary({ dirs: [defaultPipelineDirs({ home: dir })[0] as string] });
    const only = process.argv.slice(2);
    for (const [name, run] of Object.entries(exampleRuns)) {
      if (only.length > 0 && !only.includes(name)) continue;
      if (run.script) run.script(agent);
      else agent.answerWith((prompt) => `faux answer to: ${prompt.slice(0, 60)}`);
      const p = library.get(name);
      if (!p) throw new Error(`no pipeline ${name}`);
      const handle = await h.start(p, run.inputs, exampleMessage);
      if (run.signal) {
        for (;;) {
          const state = await handle.query<PipelineState>('pipeline.state');
          if (state.waitingFor.includes(run.signal)) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await handle.signal('pipeline.signal', { name: run.signal, payload: run.payload });
      }
      console.log(name, JSON.stringify(await handle.result()));
      const json = execFileSync(
        cliPath,
        ['workflow', 'show', '-w', handle.workflowId, '--address', server.address, '--output', 'json'],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      writeFileSync(
        join(projectRoot(), 'test', 'replay', 'histories', `pipeline-${name}.json`),
        withoutStackTraces(json.toString()),
      );
    }
  } finally {
    await chat.close();
    await h.close();
    agent.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('record-histories.js')) await main();
