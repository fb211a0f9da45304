/**
 * What a turn costs inside, per turn of a batch: CPU time of each process (gateway, worker,
 * Temporal dev server; /proc/<pid>/stat, Linux only), and from the Temporal histories of the
 * batch's sessions — every run of each session (continue-as-new followed back) and every child
 * workflow they started — the workflow tasks, activities (local ones separately), child workflows,
 * history events and history bytes (the protobuf size Temporal stores).
 */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto';
import { round } from './util.js';

type History = temporal.api.history.v1.IHistory;
// A CommonJS package: its namespace comes from the default export under Node's ESM loader.
const HistoryMessage = proto.temporal.api.history.v1.History;

/** utime + stime of a process in ms, or null when it is gone. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

export type CpuSample = Record<string, number | null>;

export function sampleCpu(pids: Record<string, number>): CpuSample {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
}

/** CPU ms per turn by process between two samples, and their sum. */
export function cpuPerTurn(
  before: CpuSample,
  after: CpuSample,
  turns: number,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  let total = 0;
  for (const name of Object.keys(before)) {
    const a = after[name];
    const b = before[name];
    const per = a == null || b == null ? null : round((a - b) / turns, 1);
    out[name] = per;
    if (per !== null) total += per;
  }
  out.total = round(total, 1);
  return out;
}

export interface HistoryBreakdown {
  workflowTasks: number;
  activities: number;
  localActivities: number;
  childWorkflows: number;
  events: number;
  bytes: number;
}

function count(history: History): HistoryBreakdown {
  const events = history.events ?? [];
  return {
    workflowTasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    localActivities: events.filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    ).length,
    childWorkflows: events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length,
    events: events.length,
    bytes: HistoryMessage.encode(history).finish().length,
  };
}

function add(a: HistoryBreakdown, b: HistoryBreakdown): HistoryBreakdown {
  return {
    workflowTasks: a.workflowTasks + b.workflowTasks,
    activities: a.activities + b.activities,
    localActivities: a.localActivities + b.localActivities,
    childWorkflows: a.childWorkflows + b.childWorkflows,
    events: a.events + b.events,
    bytes: a.bytes + b.bytes,
  };
}

const ZERO: HistoryBreakdown = {
  workflowTasks: 0,
  activities: 0,
  localActivities: 0,
  childWorkflows: 0,
  events: 0,
  bytes: 0,
};

/** Summed over every run of the sessions `session:<key>` and their children, per turn. */
export async function historyPerTurn(
  address: string,
  sessionKeys: string[],
  turns: number,
): Promise<HistoryBreakdown> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    let sum = ZERO;
    for (const key of sessionKeys) {
      let runId: string | undefined;
      for (;;) {
        const history = await client.workflow.getHandle(`session:${key}`, runId).fetchHistory();
        sum = add(sum, count(history));
        for (const e of history.events ?? []) {
          const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
          if (!child?.workflowId) continue;
          const childHistory = await client.workflow
            .getHandle(child.workflowId, child.runId ?? undefined)
            .fetchHistory();
          sum = add(sum, count(childHistory));
        }
        const previous =
          history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        if (!previous) break;
        runId = previous;
      }
    }
    const per = (n: number) => round(n / turns, 2);
    return {
      workflowTasks: per(sum.workflowTasks),
      activities: per(sum.activities),
      localActivities: per(sum.localActivities),
      childWorkflows: per(sum.childWorkflows),
      events: per(sum.events),
      bytes: Math.round(sum.bytes / turns),
    };
  } finally {
    await connection.close();
  }
}
