/**
 * The box an `exec` command runs in: bubblewrap (`bwrap`, Debian's `bubblewrap`) with every
 * namespace unshared — its own user (uid 1000 inside, all capabilities dropped), processes,
 * network (no interface but its own loopback, unless the network is allowed), IPC, host name.
 * The system's programs and libraries are there read-only (/usr and its links, a few files of
 * /etc; never /root, /home, the data directory or the rest of the host); the agent's workspace
 * is /workspace (read-write), /tmp is a fresh tmpfs. The command gets a clean environment, is
 * killed with everything it started after its time limit, or as soon as it prints more than its
 * output limit, and dies with the worker (`--die-with-parent`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { SANDBOX_PATH } from './exec-policy.js';

export interface SandboxCommand {
  command: string;
  /** Host folder mounted read-write at /workspace (the working directory). */
  workspace: string;
  network: boolean;
  timeoutMs: number;
  /** Output (stdout and stderr together) past which the command is stopped. */
  maxOutputBytes: number;
  signal?: AbortSignal;
}

export interface SandboxResult {
  exitCode: number | null;
  /** The signal that ended the command, when one did. */
  signal: NodeJS.Signals | null;
  /** Its output (stdout and stderr as they came), the middle left out when long. */
  output: string;
  /** Bytes it printed in all. */
  bytes: number;
  /** Why it was stopped, when Switchyard stopped it. */
  stopped?: 'timeout' | 'output' | 'cancelled';
  durationMs: number;
}

/** What of the output is returned: the beginning and the end. */
const HEAD_BYTES = 24 * 1024;
const TAIL_BYTES = 8 * 1024;

const ETC_FILES = [
  'alternatives',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'passwd',
  'group',
  'nsswitch.conf',
  'hosts',
  'resolv.conf',
  'gai.conf',
  'ssl',
  'ca-certificates',
  'localtime',
  'timezone',
  'mime.types',
];

/** `bwrap` on PATH, or undefined. */
export function findBwrap(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const path = join(dir, 'bwrap');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

export function bwrapArgs(cmd: Pick<SandboxCommand, 'command' | 'workspace' | 'network'>): string[] {
  const args = ['--unshare-all', '--unshare-user', '--uid', '1000', '--gid', '1000', '--cap-drop', 'ALL'];
  if (cmd.network) args.push('--share-net');
  args.push('--die-with-parent', '--new-session', '--hostname', 'sandbox');
  args.push('--ro-bind', '/usr', '/usr');
  // Merged-/usr systems link /bin, /lib… into /usr; older ones have real folders.
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    let link: string | undefined;
    try {
      link = lstatSync(dir).isSymbolicLink() ? readlinkSync(dir) : undefined;
    } catch {
      continue;
    }
    if (link !== undefined) args.push('--symlink', link, dir);
    else args.push('--ro-bind', dir, dir);
  }
  for (const name of ETC_FILES) {
    if (existsSync(`/etc/${name}`)) args.push('--ro-bind', `/etc/${name}`, `/etc/${name}`);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  args.push('--bind', cmd.workspace, '/workspace', '--chdir', '/workspace');
  args.push('--clearenv');
  const env: Record<string, string> = {
    PATH: SANDBOX_PATH.join(':'),
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: '/tmp',
  };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  args.push('--', '/bin/sh', '-c', cmd.command);
  return args;
}

/**
 * Whether the sandbox can start here: undefined when it can, else what is wrong and what to do
 * (checked once per worker; user namespaces can be switched off by the kernel or a container).
 */
export function probeSandbox(
  bwrap: string | undefined = findBwrap(),
  workspace = '/tmp',
): string | undefined {
  if (!bwrap)
    return 'bubblewrap is not installed: apt-get install bubblewrap (the exec sandbox needs bwrap on PATH)';
  const res = spawnSync(bwrap, bwrapArgs({ command: 'exit 0', workspace, network: false }), {
    timeout: 15_000,
    encoding: 'utf8',
  });
  if (res.status === 0) return undefined;
  const said = (res.stderr || res.error?.message || `exit ${res.status ?? res.signal}`).trim().split('\n')[0];
  return `bubblewrap cannot create its sandbox here (${said}): user namespaces may be off (sysctl kernel.unprivileged_userns_clone=1, or in a container allow unshare/clone for the worker)`;
}

export function runSandboxed(cmd: SandboxCommand, bwrap: string): Promise<SandboxResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bwrap, bwrapArgs(cmd), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stopped: SandboxResult['stopped'];
    const kill = (why: NonNullable<SandboxResult['stopped']>) => {
      stopped ??= why;
      try {
        // Its own process group: bwrap, and with it (--die-with-parent, a PID namespace) all inside.
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    };
    const head: Buffer[] = [];
    let headBytes = 0;
    let tail = Buffer.alloc(0);
    let bytes = 0;
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (headBytes < HEAD_BYTES) {
        const part = chunk.subarray(0, HEAD_BYTES - headBytes);
        head.push(part);
        headBytes += part.length;
        chunk = chunk.subarray(part.length);
      }
      if (chunk.length > 0) tail = Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
      if (bytes > cmd.maxOutputBytes) kill('output');
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const timer = setTimeout(() => kill('timeout'), cmd.timeoutMs);
    const onAbort = () => kill('cancelled');
    cmd.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      cmd.signal?.removeEventListener('abort', onAbort);
      const skipped = bytes - headBytes - tail.length;
      const output =
        skipped > 0
          ? `${Buffer.concat(head).toString('utf8')}\n[… ${skipped} bytes left out …]\n${tail.toString('utf8')}`
          : Buffer.concat([...head, tail]).toString('utf8');
      resolve({
        exitCode,
        signal,
        output,
        bytes,
        ...(stopped ? { stopped } : {}),
        durationMs: Date.now() - started,
      });
    });
  });
}
