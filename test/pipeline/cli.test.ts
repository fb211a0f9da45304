// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { type FauxAgent, fauxAgent } from '../helpers/faux-agent.js';

const run = promisify(execFile);

/** Runs the built CLI (`npm run build` first) and returns its exit code and output. */
async function switchyard(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(projectRoot(), 'bin', 'switchyard.js'), ...args],
      {
        env: { ...process.env, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('switchyard pipelines …', () => {
  const address = inject('temporalAddress');
  const taskQueue = uniqueTaskQueue('cli');
  const home = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
  const env = {
    SWITCHYARD_HOME: home,
    TEMPORAL_ADDRESS: address,
    SWITCHYARD_TASK_QUEUE: taskQueue,
    TEMPORAL_UI_URL: 'http://ui.test:8233',
  };
  let worker: RunningWorker;
  let agent: FauxAgent;
  beforeAll(async () => {
    agent = fauxAgent();
    agent.answerWith((prompt) => `faux summary of: ${prompt}`);
    worker = await startWorker({
      // The CLI's data dir: they share its encryption key.
      config: loadConfig({ home, env }),
      taskQueue,
      deps: { agent: { config: agent.config } },
    });
  });
  afterAll(async () => {
    await worker?.shutdown();
    agent?.close();
  });

  // Each CLI start costs seconds on a loaded 2-core machine: few invocations, each proving much.
  it('validate prints ok per good file and every error as file:line:col, exiting 1', async () => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nsteps:\n  - uses: nope\n  - set: { a: "${{ steps.zz.output }}" }\n');
    const good = join(projectRoot(), 'pipelines', 'default.yaml');
    const result = await switchyard(['pipelines', 'validate', good, bad], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ok {2}default {2}[0-9a-f]{12} /m);
    expect(result.stderr).toContain(`${bad}:3:11: unknown step type 'nope'`);
    expect(result.stderr).toContain(`${bad}:4:26: no step 'zz' is visible`);
    expect(result.stderr).toContain('1 of 2 pipeline file(s) do not compile');
  });

  it('show prints the content hash and the compiled IR', async () => {
    const show = await switchyard(['pipelines', 'show', 'research'], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/hash: +sha256:[0-9a-f]{64}/);
    expect(show.stdout).toContain('"irVersion": 1');
    expect(show.stdout).toMatch(/steps: +3; calls summarise/);
  });

  it('run starts a real run with typed --input values and prints its outputs and UI link', async () => {
    const result = await switchyard(
      ['pipelines', 'run', 'summarise', '--input', 'text=Temporal keeps state', '--input', 'sentences=1'],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      summary: 'faux summary of: Summarise in 1 sentences: Temporal keeps state',
    });
    expect(result.stderr).toMatch(
      /Temporal UI: http:\/\/ui\.test:8233\/namespaces\/default\/workflows\/pipeline-summarise-/,
    );
  });
});
