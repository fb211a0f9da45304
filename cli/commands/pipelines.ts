/**
 * `switchyard pipelines validate | show | graph | run | signal`. validate, show and graph work
 * without a server; run starts a pipelineWorkflow through a Temporal client and waits for it.
 */

import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { directMessage } from '../../channels/direct-message.js';
import { defaultPipelineDirs, loadPipelineLibrary, type PipelineLibrary } from '../../client/pipelines.js';
import type { Config } from '../../config/config.js';
import { type CompiledPipeline, describePipeline, formatErrors, renderMermaid } from '../../engine/index.js';
import { connectionOptions, workflowUiLink } from '../../temporal/connection.js';
import type { PipelineRunInput, PipelineSignal } from '../../workflows/pipeline/pipeline-api.js';
import { loadConfigOrExit } from '../load.js';

export function registerPipelinesCommands(program: Command): void {
  const pipelines = program
    .command('pipelines')
    .description('check, inspect and run the YAML pipelines (pipelines/ and <data dir>/pipelines/)');

  pipelines
    .command('validate')
    .description('compile pipelines and print every error as file:line:col (exit code 1 on any error)')
    .argument('[files...]', 'files to check (default: every pipeline in the pipeline folders)')
    .action((files: string[]) => {
      const library = openLibrary(loadConfigOrExit(), files);
      const wanted = files.length > 0 ? files.map((f) => resolve(f)) : library.files();
      const errors = library.errors();
      let failed = 0;
      for (const file of wanted) {
        const problems = errors.get(file);
        if (problems) {
          failed++;
          console.error(formatErrors(problems));
          continue;
        }
        const p = library.list().find((c) => c.file === file);
        console.log(`ok  ${p?.name ?? '?'}  ${(p ? short(p.hash) : undefined) ?? ''}  ${file}`);
      }
      if (failed > 0) console.error(`\n${failed} of ${wanted.length} pipeline file(s) do not compile.`);
      process.exitCode = failed > 0 ? 1 : 0;
    });

  pipelines
    .command('show')
    .description('print the compiled form of a pipeline and its content hash')
    .argument('<name>', 'pipeline name')
    .option('--json', 'print the whole description as JSON')
    .action((name: string, opts: { json?: boolean }) => {
      const p = pipelineOrExit(openLibrary(loadConfigOrExit()), name);
      const d = describePipeline(p);
      if (opts.json) {
        console.log(JSON.stringify(d, null, 2));
        return;
      }
      console.log(`name:    ${d.name}`);
      console.log(`hash:    ${d.hash}`);
      console.log(`file:    ${d.file}`);
      if (d.description) console.log(`about:   ${d.description}`);
      console.log(`inputs:  ${Object.keys(d.inputs.properties).join(', ') || '(none)'}`);
      console.log(`outputs: ${d.outputs.join(', ') || '(none)'}`);
      console.log(`steps:   ${d.stepCount}${d.calls.length ? `; calls ${d.calls.join(', ')}` : ''}`);
      console.log(
        `turn:    ${d.turn.inline ? 'inside the session workflow' : `a child workflow of the session: ${d.turn.reason}`}`,
      );
      console.log(`\n${JSON.stringify(d.ir, null, 2)}`);
    });

  pipelines
    .command('graph')
    .description('print a pipeline as a Mermaid flowchart')
    .argument('<name>', 'pipeline name')
    .action((name: string) => {
      console.log(renderMermaid(pipelineOrExit(openLibrary(loadConfigOrExit()), name).ir));
    });

  pipelines
    .command('run')
    .description('start a run on the worker, wait for it, and print its outputs and Temporal UI link')
    .argument('<name>', 'pipeline name')
    .option('-i, --input <key=value...>', 'an input (typed from the pipeline inputs; JSON for lists/objects)')
    .option('--text <text>', 'the text of the inbound message the run sees as `message`', '')
    .option('--message <json>', 'the whole inbound message envelope, as JSON')
    .option('--no-wait', 'print the workflow id and return without waiting')
    .action(
      async (name: string, opts: { input?: string[]; text: string; message?: string; wait: boolean }) => {
        const config = loadConfigOrExit();
        const p = pipelineOrExit(openLibrary(config), name);
        const inputs = parseInputs(p, opts.input ?? []);
        const message = opts.message ? parseJsonOrExit(opts.message, '--message') : cliMessage(opts.text);
        const env: Record<string, string> = {};
        for (const key of p.ir.env) if (process.env[key] !== undefined) env[key] = process.env[key] as string;
        const input: PipelineRunInput = { ir: p.ir, hash: p.hash, inputs, message, env };
        const opened = await clientOrExit(config);
        try {
          const { client } = opened;
          const workflowId = `pipeline-${p.name}-${randomUUID().slice(0, 8)}`;
          const handle = await client.workflow.start('pipelineWorkflow', {
            taskQueue: config.temporal.taskQueue,
            workflowId,
            args: [input],
            memo: { pipeline: p.name, hash: p.hash },
            staticSummary: `pipeline ${p.name} (${short(p.hash)})`,
          });
          console.error(`started ${workflowId} (${p.name} ${short(p.hash)})`);
          const link = workflowUiLink(config, workflowId);
          if (link) console.error(`Temporal UI: ${link}`);
          if (!opts.wait) return;
          try {
            console.log(JSON.stringify(await handle.result(), null, 2));
          } catch (error) {
            const cause = (error as { cause?: { type?: string; message?: string } }).cause;
            console.error(`run failed: ${cause?.type ?? ''} ${cause?.message ?? (error as Error).message}`);
            process.exitCode = 1;
          }
        } finally {
          await opened.close();
        }
      },
    );

  pipelines
    .command('signal')
    .description('send a named signal to a waiting `wait_for:` step of a run')
    .argument('<workflowId>', 'the run (as printed by `pipelines run`)')
    .argument('<signal>', 'the `wait_for.signal` name, e.g. approval')
    .option('--payload <json>', 'what the step receives as `output.payload`', 'null')
    .action(async (workflowId: string, signal: string, opts: { payload: string }) => {
      const config = loadConfigOrExit();
      const payload = parseJsonOrExit(opts.payload, '--payload');
      const opened = await clientOrExit(config);
      try {
        const { client } = opened;
        const body: PipelineSignal = { name: signal, payload };
        await client.workflow.getHandle(workflowId).signal('pipeline.signal', body);
        console.log(`sent '${signal}' to ${workflowId}`);
      } finally {
        await opened.close();
      }
    });
}

/** The pipeline folders, plus any files named on the command line (compiled with them, for `call:`). */
function openLibrary(config: Config, files: string[] = []): PipelineLibrary {
  const library = loadPipelineLibrary({ dirs: defaultPipelineDirs(config), onError: () => {} });
  for (const file of files) library.reload(file);
  return library;
}

function pipelineOrExit(library: PipelineLibrary, name: string): CompiledPipeline {
  const p = library.get(name);
  if (p) return p;
  const broken = [...library.errors().entries()];
  console.error(
    `No pipeline named '${name}'. Known: ${
      library
        .list()
        .map((c) => c.name)
        .join(', ') || '(none)'
    }.`,
  );
  if (broken.length)
    console.error(`Files that do not compile:\n${broken.map(([, e]) => formatErrors(e)).join('\n')}`);
  process.exit(1);
}

/** `k=v` by the input's declared type: numbers, booleans, JSON for arrays and objects, else text. */
export function parseInputs(p: CompiledPipeline, pairs: string[]): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      console.error(`--input ${pair}: expected key=value`);
      process.exit(1);
    }
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const type = (p.ir.inputs.properties[key] as { type?: string } | undefined)?.type;
    if (type === undefined) {
      console.error(
        `--input ${key}: '${p.name}' has no such input (it has: ${Object.keys(p.ir.inputs.properties).join(', ') || 'none'})`,
      );
      process.exit(1);
    }
    inputs[key] = type === 'string' ? raw : parseJsonOrExit(raw, `--input ${key}`);
  }
  return inputs;
}

function parseJsonOrExit(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    console.error(`${what}: not valid JSON (${(error as Error).message})`);
    process.exit(1);
  }
}

/** A direct message from the command line, so pipelines that read `message` have one. */
function cliMessage(text: string) {
  const id = `cli-${randomUUID()}`;
  return {
    id,
    ...directMessage({
      channel: 'cli',
      accountId: 'cli',
      chatId: 'cli',
      sender: { id: 'cli', name: 'CLI' },
      messageId: id,
      text,
    }),
  };
}

/** A Temporal client for the config (its modules load only for the commands that talk to Temporal). */
async function clientOrExit(config: Config): Promise<{ client: Client; close(): Promise<void> }> {
  const [{ Client, Connection }, { dataConverterOf }, { temporalProblem }] = await Promise.all([
    import('@temporalio/client'),
    import('../../temporal/data-converter.js'),
    import('../temporal.js'),
  ]);
  try {
    const connection = await Connection.connect(connectionOptions(config));
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverterOf(config),
    });
    return { client, close: () => connection.close() };
  } catch (error) {
    const address = connectionOptions(config).address;
    console.error(
      `error: ${temporalProblem(error, { address }) ?? `cannot reach Temporal at ${address}: ${(error as Error).message.split('\n')[0]}`}`,
    );
    process.exit(1);
  }
}

const short = (hash: string) => hash.replace(/^sha256:/, '').slice(0, 12);
