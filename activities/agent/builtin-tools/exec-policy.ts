/**
 * Whether an `exec` command may run by itself, needs the owner's approval, or is refused —
 * OpenClaw's levels: `security` deny | allowlist | full, `ask` off | on-miss | always. The
 * allowlist names programs by the path of the resolved binary (globs, case-insensitive), so
 * `ls` is allowed by `/usr/bin/ls` or `/usr/bin/*`, never by the bare word. A command is in the
 * allowlist only when every program of it is (`a && b`, `a | b`, `a; b`); redirections, command
 * substitution, subshells and variables in a program's place always count as a miss.
 */
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, posix } from 'node:path';
import picomatch from 'picomatch';
import { parse } from 'shell-quote';
import type { ExecToolConfig } from '../../../config/config.js';

export type ExecDecision =
  | { run: 'allowed'; why: string }
  | { run: 'ask'; why: string }
  | { run: 'refused'; why: string };

/** The PATH commands see inside the sandbox (the same directories as on the host, read-only). */
export const SANDBOX_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface PolicyContext {
  /** The agent's workspace: /workspace in the sandbox. */
  workspace: string;
  home?: string;
}

export function decideExec(
  command: string,
  policy: Pick<ExecToolConfig, 'security' | 'ask' | 'allowlist'>,
  ctx: PolicyContext,
): ExecDecision {
  if (!command.trim()) return { run: 'refused', why: 'the command is empty' };
  if (policy.security === 'deny') return { run: 'refused', why: 'exec is off (tools.exec.security: deny)' };
  const miss = policy.security === 'full' ? undefined : allowlistMiss(command, policy.allowlist, ctx);
  if (miss === undefined) {
    const why = policy.security === 'full' ? 'security: full' : 'every program is in the allowlist';
    return policy.ask === 'always' ? { run: 'ask', why: `ask: always (${why})` } : { run: 'allowed', why };
  }
  if (policy.ask === 'off') {
    return { run: 'refused', why: `${miss}, and tools.exec.ask is off (nobody is asked)` };
  }
  return { run: 'ask', why: miss };
}

/** Undefined when every program of the command is allowlisted; else why not, in a sentence. */
export function allowlistMiss(
  command: string,
  allowlist: readonly string[],
  ctx: PolicyContext,
): string | undefined {
  if (allowlist.length === 0) return 'the allowlist is empty';
  if (/`|\$\(|\$\{|<\(|>\(/.test(command)) return 'it uses command substitution';
  let tokens: ReturnType<typeof parse>;
  try {
    // Variables are left as they are written ($X), so a program named by one is not trusted.
    tokens = parse(command, (name) => `$${name}`);
  } catch {
    return 'it cannot be read as a simple command';
  }
  const home = ctx.home ?? homedir();
  const matchers = allowlist.map((p) =>
    picomatch(p.startsWith('~/') ? join(home, p.slice(2)) : p, { nocase: true, dot: true }),
  );
  const programs: string[] = [];
  let expectProgram = true;
  for (const token of tokens) {
    if (typeof token === 'object') {
      if ('op' in token && ['&&', '||', ';', '|'].includes(token.op)) {
        expectProgram = true;
        continue;
      }
      if ('comment' in token) break;
      if ('op' in token && token.op === 'glob' && !expectProgram) continue;
      return `it uses ${'op' in token ? `'${token.op}'` : 'shell syntax'} (redirections, subshells and background jobs need approval)`;
    }
    if (!expectProgram) continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(token)) continue; // VAR=value before the program
    if (token.includes('$')) return `its program '${token}' is a variable`;
    programs.push(token);
    expectProgram = false;
  }
  if (programs.length === 0) return 'it runs no program';
  for (const program of programs) {
    const paths = resolveProgram(program, ctx.workspace);
    if (paths.length === 0) return `'${program}' is not a program on the sandbox's PATH`;
    if (!paths.some((p) => matchers.some((m) => m(p)))) {
      return `'${program}' (${paths.at(-1)}) is not in the allowlist`;
    }
  }
  return undefined;
}

/**
 * Where a program word leads, as the allowlist may name it: the path in the sandbox, the same
 * file on the host (the workspace is /workspace inside) and its real path (/usr/bin/python3 →
 * /usr/bin/python3.11). Empty when there is no such program.
 */
function resolveProgram(program: string, workspace: string): string[] {
  const inSandbox = program.includes('/')
    ? [posix.resolve('/workspace', program)]
    : SANDBOX_PATH.map((dir) => posix.join(dir, program));
  for (const path of inSandbox) {
    const host =
      path === '/workspace' || path.startsWith('/workspace/') ? join(workspace, path.slice(11)) : path;
    try {
      if (!statSync(host).isFile()) continue;
      return [...new Set([path, host, realpathSync(host)])];
    } catch {}
  }
  return [];
}
