/**
 * OpenClaw's `sessions.*` methods on Switchyard's session workflows: list the open ones (with the
 * label an app gave them), preview their last messages, reset, compact (keep the last N entries
 * and the summary), delete (end the workflow) and patch. A session's label is the one thing an
 * app can set that Switchyard keeps, in the gateway's SQLite; every other patch field is refused
 * by name rather than pretended.
 */
import type {
  SessionsCompactParams,
  SessionsPatchParams,
  SessionsPreviewParams,
} from '@openclaw/gateway-protocol';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { parseSessionKey, sessionWorkflowId } from '../../channels/session-key.js';
import {
  abortSession,
  compactSession,
  endSession,
  listSessions,
  resetSession,
  SessionNotFoundError,
  sessionHistory,
} from '../../client/sessions.js';
import type { SessionHistory } from '../../workflows/session/session-api.js';
import type { Database } from '../store/db.js';
import { GatewayMethodError, type GatewayServices, type JsonObject } from './protocol/services.js';

/** OpenClaw's defaults: 12 entries of at most 240 characters, 64 keys at most. */
const PREVIEW = { limit: 12, maxChars: 240, maxKeys: 64 };
/** OpenClaw's default `maxLines` for sessions.compact. */
const COMPACT_DEFAULT_MAX_LINES = 400;

export interface OpenclawSessionsOptions {
  client: Client;
  db: Database;
  /** `agent:<default agent>:<main key>`: OpenClaw refuses to delete it, and so does Switchyard. */
  mainSessionKey: string;
  /** This install's task queue: sessions.list lists the sessions on it. */
  taskQueue?: string;
  /** Tells connected operators that the session list changed (`sessions.changed`). */
  sessionsChanged?: (payload: { sessionKey: string; reason: string; ts: number }) => void;
  /** Live runs of a session ended by `sessions.delete` (so their clients see `aborted`). */
  onAborted?: (sessionKey: string, messageIds: string[]) => void;
}

export interface OpenclawSessions {
  services: Pick<
    GatewayServices,
    | 'sessionsList'
    | 'sessionsPreview'
    | 'sessionsPatch'
    | 'sessionsReset'
    | 'sessionsCompact'
    | 'sessionsDelete'
  >;
}

export function createOpenclawSessions(options: OpenclawSessionsOptions): OpenclawSessions {
  const { client, mainSessionKey } = options;
  const labels = new SessionLabels(options.db);
  const changed = (sessionKey: string, reason: string) =>
    options.sessionsChanged?.({ sessionKey, reason, ts: Date.now() });

  return {
    services: {
      async sessionsList() {
        const sessions = await listSessions(
          client,
          options.taskQueue ? { taskQueue: options.taskQueue } : {},
        );
        return {
          ts: Date.now(),
          count: sessions.length,
          sessions: sessions.map((s) => {
            const label = labels.get(s.sessionKey);
            return {
              key: s.sessionKey,
              kind: kindOf(s.sessionKey),
              updatedAt: s.startTime.getTime(),
              ...(label ? { label } : {}),
            };
          }),
        };
      },

      async sessionsPreview(params: SessionsPreviewParams) {
        const keys = params.keys
          .map((k) => k.trim())
          .filter(Boolean)
          .slice(0, PREVIEW.maxKeys);
        const limit = params.limit ?? PREVIEW.limit;
        const maxChars = params.maxChars ?? PREVIEW.maxChars;
        const previews = await Promise.all(keys.map((key) => preview(client, key, limit, maxChars)));
        return { ts: Date.now(), previews };
      },

      async sessionsPatch(params: SessionsPatchParams) {
        const key = params.key.trim();
        checkAgent(key, params.agentId);
        const unsupported = Object.keys(params).filter(
          (field) => !PATCHABLE.has(field) && (params as JsonObject)[field] !== undefined,
        );
        if (unsupported.length > 0) {
          throw new GatewayMethodError(
            'INVALID_REQUEST',
            `sessions.patch: Switchyard cannot set ${unsupported.map((f) => `'${f}'`).join(', ')} ` +
              `on a session (supported: ${[...PATCHABLE].filter((f) => f !== 'key' && f !== 'agentId').join(', ')})`,
            { unsupported },
          );
        }
        if (params.label !== undefined) labels.set(key, params.label);
        const label = labels.get(key);
        changed(key, 'patch');
        return {
          ok: true,
          path: options.db.name,
          key,
          entry: { ...(label ? { label } : {}), updatedAt: labels.updatedAt(key) ?? Date.now() },
        };
      },

      async sessionsReset(params) {
        try {
          await resetSession(client, params.key);
        } catch (err) {
          if (!(err instanceof SessionNotFoundError)) throw err;
          // Nothing to forget: a session that was never started is already empty.
        }
        return { ok: true, key: params.key };
      },

      async sessionsCompact(params: SessionsCompactParams) {
        const key = params.key.trim();
        checkAgent(key, params.agentId);
        const maxLines = params.maxLines ?? COMPACT_DEFAULT_MAX_LINES;
        let history: SessionHistory;
        try {
          history = await openSessionHistory(client, key);
        } catch (err) {
          if (err instanceof SessionNotFoundError)
            return { ok: true, key, compacted: false, reason: 'no session' };
          throw err;
        }
        if (history.transcript.length <= maxLines) {
          return { ok: true, key, compacted: false, kept: history.transcript.length };
        }
        // Like OpenClaw's maxLines: the newest entries stay; the summary of older turns is kept as is
        // (no summary sent: the session keeps its own, even one the agent wrote a moment ago).
        const { transcript } = await compactSession(client, key, { keepLast: maxLines });
        changed(key, 'compact');
        return { ok: true, key, compacted: true, kept: transcript };
      },

      async sessionsDelete(params) {
        const key = params.key.trim();
        checkAgent(key, params.agentId);
        if (key === mainSessionKey) {
          throw new GatewayMethodError(
            'INVALID_REQUEST',
            `Cannot delete the main session (${mainSessionKey}).`,
          );
        }
        const preconditions: string[] = [
          ...PRECONDITIONS.filter((field) => params[field] !== undefined),
          ...(params.archivedOnly ? ['archivedOnly'] : []),
        ];
        if (preconditions.length > 0) {
          throw new GatewayMethodError(
            'INVALID_REQUEST',
            `sessions.delete: Switchyard cannot check ${preconditions.map((f) => `'${f}'`).join(', ')} ` +
              '(sessions have no revisions or archive); send the key alone',
            { unsupported: preconditions },
          );
        }
        let existed = await isOpen(client, key);
        if (existed) {
          try {
            // Stop what is running and queued first, as OpenClaw does, so no answer arrives later.
            const aborted = await abortSession(client, key, {});
            if (aborted.messageIds.length > 0) options.onAborted?.(key, aborted.messageIds);
            await endSession(client, key, 'deleted with sessions.delete (OpenClaw protocol)');
          } catch (err) {
            if (!(err instanceof SessionNotFoundError)) throw err;
            existed = false;
          }
        }
        labels.delete(key);
        if (existed) changed(key, 'delete');
        return { ok: true, key, deleted: existed, archived: [] };
      },
    },
  };
}

/** Checks of sessions.delete against state Switchyard's sessions do not have. */
const PRECONDITIONS = ['expectedSessionId', 'expectedLifecycleRevision', 'expectedSessionUpdatedAt'] as const;

/**
 * The history of a session that is open. A deleted (terminated) session workflow still answers
 * queries from its last state; for OpenClaw's apps it is gone.
 */
export async function openSessionHistory(client: Client, sessionKey: string): Promise<SessionHistory> {
  if (!(await isOpen(client, sessionKey))) throw new SessionNotFoundError(sessionKey);
  return await sessionHistory(client, sessionKey);
}

async function isOpen(client: Client, sessionKey: string): Promise<boolean> {
  try {
    const described = await client.workflow.getHandle(sessionWorkflowId(sessionKey)).describe();
    return described.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Fields of sessions.patch that Switchyard honours (key and agentId only address the session). */
const PATCHABLE = new Set(['key', 'agentId', 'label']);

/** An `agentId` next to a key must name the key's own agent (OpenClaw's rule). */
function checkAgent(key: string, agentId: string | undefined): void {
  if (agentId === undefined) return;
  const parsed = parseSessionKey(key);
  if (parsed && parsed.agentId.toLowerCase() !== agentId.trim().toLowerCase()) {
    throw new GatewayMethodError(
      'INVALID_REQUEST',
      `agentId "${agentId}" does not match session key "${key}"`,
    );
  }
}

function kindOf(sessionKey: string): 'direct' | 'group' | 'unknown' {
  const parsed = parseSessionKey(sessionKey);
  if (!parsed) return 'unknown';
  return parsed.scope === 'group' ? 'group' : 'direct';
}

/** The last `limit` transcript entries of one session, each cut to `maxChars`. */
async function preview(client: Client, key: string, limit: number, maxChars: number): Promise<JsonObject> {
  try {
    const { transcript } = await openSessionHistory(client, key);
    const items = transcript.slice(-limit).map((e) => ({ role: e.role, text: cut(e.text, maxChars) }));
    return { key, status: items.length > 0 ? 'ok' : 'empty', items };
  } catch (err) {
    return { key, status: err instanceof SessionNotFoundError ? 'missing' : 'error', items: [] };
  }
}

function cut(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

/** Labels apps give sessions (`sessions.patch {label}`), kept in the gateway's SQLite. */
class SessionLabels {
  constructor(private readonly db: Database) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS openclaw_session_labels (session_key TEXT PRIMARY KEY, label TEXT NOT NULL, updated_at INTEGER NOT NULL)',
    );
  }

  get(sessionKey: string): string | undefined {
    const row = this.db
      .prepare('SELECT label FROM openclaw_session_labels WHERE session_key = ?')
      .get(sessionKey) as { label: string } | undefined;
    return row?.label;
  }

  updatedAt(sessionKey: string): number | undefined {
    const row = this.db
      .prepare('SELECT updated_at FROM openclaw_session_labels WHERE session_key = ?')
      .get(sessionKey) as { updated_at: number } | undefined;
    return row?.updated_at;
  }

  /** `null` clears the label. */
  set(sessionKey: string, label: string | null): void {
    if (label === null) {
      this.delete(sessionKey);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO openclaw_session_labels (session_key, label, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(session_key) DO UPDATE SET label = excluded.label, updated_at = excluded.updated_at`,
      )
      .run(sessionKey, label, Date.now());
  }

  delete(sessionKey: string): void {
    this.db.prepare('DELETE FROM openclaw_session_labels WHERE session_key = ?').run(sessionKey);
  }
}
