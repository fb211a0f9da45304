// Minimal node plumbing: work queued for a node until it pulls and acks it
// (node.pending.pull|ack), and invocations awaiting the node's node.invoke.result.
import { randomUUID } from 'node:crypto';

export type NodeWorkType = 'status.request' | 'location.request';

export interface NodeWorkItem {
  id: string;
  type: NodeWorkType;
  priority: 'default' | 'normal' | 'high';
  createdAtMs: number;
  expiresAtMs?: number | null;
  payload?: Record<string, unknown>;
}

export interface NodeInvokeOutcome {
  ok: boolean;
  payload?: unknown;
  error?: { code?: string; message?: string };
}

export class NodeQueues {
  private readonly pending = new Map<string, NodeWorkItem[]>();
  private readonly revisions = new Map<string, number>();
  private readonly invokes = new Map<
    string,
    { nodeId: string; resolve: (o: NodeInvokeOutcome) => void; timer: NodeJS.Timeout }
  >();

  enqueue(nodeId: string, item: Omit<NodeWorkItem, 'id' | 'createdAtMs'> & { id?: string }): NodeWorkItem {
    const full: NodeWorkItem = { ...item, id: item.id ?? randomUUID(), createdAtMs: Date.now() };
    const list = this.pending.get(nodeId) ?? [];
    list.push(full);
    this.pending.set(nodeId, list);
    this.revisions.set(nodeId, (this.revisions.get(nodeId) ?? 0) + 1);
    return full;
  }

  pull(
    nodeId: string,
    maxItems = 10,
  ): { nodeId: string; revision: number; items: NodeWorkItem[]; hasMore: boolean } {
    const now = Date.now();
    const live = (this.pending.get(nodeId) ?? []).filter((i) => i.expiresAtMs == null || i.expiresAtMs > now);
    this.pending.set(nodeId, live);
    return {
      nodeId,
      revision: this.revisions.get(nodeId) ?? 0,
      items: live.slice(0, maxItems),
      hasMore: live.length > maxItems,
    };
  }

  ack(nodeId: string, ids: readonly string[]): { ok: true; nodeId: string; acked: number; revision: number } {
    const list = this.pending.get(nodeId) ?? [];
    const remaining = list.filter((i) => !ids.includes(i.id));
    this.pending.set(nodeId, remaining);
    const acked = list.length - remaining.length;
    if (acked > 0) this.revisions.set(nodeId, (this.revisions.get(nodeId) ?? 0) + 1);
    return { ok: true, nodeId, acked, revision: this.revisions.get(nodeId) ?? 0 };
  }

  /** Registers an invocation; the caller sends `node.invoke.request` to the node. */
  awaitInvoke(nodeId: string, timeoutMs: number): { id: string; outcome: Promise<NodeInvokeOutcome> } {
    const id = randomUUID();
    const outcome = new Promise<NodeInvokeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.invokes.delete(id);
        resolve({
          ok: false,
          error: { code: 'TIMEOUT', message: `node ${nodeId} did not answer in ${timeoutMs} ms` },
        });
      }, timeoutMs);
      this.invokes.set(id, { nodeId, resolve, timer });
    });
    return { id, outcome };
  }

  /** Settles an invocation; false when the id is unknown, late or from another node. */
  settleInvoke(id: string, nodeId: string, outcome: NodeInvokeOutcome): boolean {
    const entry = this.invokes.get(id);
    if (!entry || entry.nodeId !== nodeId) return false;
    clearTimeout(entry.timer);
    this.invokes.delete(id);
    entry.resolve(outcome);
    return true;
  }
}
