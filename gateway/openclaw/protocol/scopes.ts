// Roles and operator scopes per method, following OpenClaw's classification (src/gateway/method-scopes.ts):
// admin implies every scope, write implies read, and an unclassified method needs admin — so an
// unknown method answers FORBIDDEN to a read/write client, exactly as OpenClaw does.
import type { GatewayRole } from './services.js';

export const READ = 'operator.read';
export const WRITE = 'operator.write';
export const ADMIN = 'operator.admin';
export const APPROVALS = 'operator.approvals';
export const PAIRING = 'operator.pairing';
export type OperatorScope = typeof READ | typeof WRITE | typeof ADMIN | typeof APPROVALS | typeof PAIRING;
export const OPERATOR_SCOPES: readonly OperatorScope[] = [ADMIN, READ, WRITE, APPROVALS, PAIRING];

const NODE_ROLE_METHODS = new Set([
  'node.invoke.result',
  'node.event',
  'node.pending.drain',
  'node.pending.pull',
  'node.pending.ack',
  'skills.bins',
]);

const SCOPE_BY_METHOD = new Map<string, OperatorScope>();
const GROUPS: Record<OperatorScope, readonly string[]> = {
  [READ]: [
    'health',
    'status',
    'logs.tail',
    'channels.status',
    'usage.status',
    'models.list',
    'agents.list',
    'agent.identity.get',
    'voicewake.get',
    'sessions.list',
    'sessions.get',
    'sessions.preview',
    'sessions.resolve',
    'sessions.usage',
    'cron.list',
    'cron.status',
    'cron.runs',
    'gateway.identity.get',
    'system-presence',
    'last-heartbeat',
    'node.list',
    'node.describe',
    'chat.history',
    'config.get',
    'talk.config',
  ],
  [WRITE]: [
    'send',
    'agent',
    'agent.wait',
    'wake',
    'talk.mode',
    'talk.speak',
    'voicewake.set',
    'node.invoke',
    'chat.send',
    'chat.abort',
    'node.pending.enqueue',
  ],
  [APPROVALS]: [
    'exec.approval.request',
    'exec.approval.waitDecision',
    'exec.approval.resolve',
    'exec.approval.get',
  ],
  [PAIRING]: [
    'node.pair.request',
    'node.pair.list',
    'node.pair.approve',
    'node.pair.reject',
    'device.pair.list',
    'device.pair.approve',
    'device.pair.reject',
    'device.pair.remove',
    'device.token.rotate',
    'device.token.revoke',
  ],
  [ADMIN]: [
    'cron.add',
    'cron.update',
    'cron.remove',
    'cron.run',
    'sessions.patch',
    'sessions.reset',
    'sessions.delete',
    'sessions.compact',
    'set-heartbeats',
    'system-event',
  ],
};
for (const [scope, methods] of Object.entries(GROUPS)) {
  for (const method of methods) SCOPE_BY_METHOD.set(method, scope as OperatorScope);
}

export function isNodeRoleMethod(method: string): boolean {
  return NODE_ROLE_METHODS.has(method);
}

export function requiredScope(method: string): OperatorScope {
  // Unclassified methods (config.*, wizard.*, unknown names) are admin-only.
  return SCOPE_BY_METHOD.get(method) ?? ADMIN;
}

export type Authorization =
  | { ok: true }
  | { ok: false; kind: 'role'; message: string }
  | { ok: false; kind: 'scope'; missingScope: OperatorScope };

/** Decides whether a connection with `role` and `scopes` may call `method`. */
export function authorizeMethod(method: string, role: GatewayRole, scopes: readonly string[]): Authorization {
  if (isNodeRoleMethod(method)) {
    return role === 'node'
      ? { ok: true }
      : { ok: false, kind: 'role', message: `unauthorized role: ${role}` };
  }
  if (role === 'node') {
    // Nodes may ask for health like any client; everything else is the operator's.
    return method === 'health'
      ? { ok: true }
      : { ok: false, kind: 'role', message: `unauthorized role: ${role}` };
  }
  if (scopes.includes(ADMIN)) return { ok: true };
  const needed = requiredScope(method);
  if (needed === READ) {
    return scopes.includes(READ) || scopes.includes(WRITE)
      ? { ok: true }
      : { ok: false, kind: 'scope', missingScope: READ };
  }
  return scopes.includes(needed) ? { ok: true } : { ok: false, kind: 'scope', missingScope: needed };
}

export function isOperatorScope(value: string): value is OperatorScope {
  return (OPERATOR_SCOPES as readonly string[]).includes(value);
}
