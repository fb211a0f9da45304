/** A real Temporal worker running only the agent workflow and activities, for test/agent. */
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { type AgentActivityDeps, createAgentActivities } from '../../activities/agent/index.js';
import { bundlerOptions } from '../../worker/bundler-options.js';

export async function bundleAgentWorkflows(): Promise<WorkflowBundle> {
  const noop = () => {};
  return bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    ...bundlerOptions,
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop },
  });
}

export interface AgentWorker {
  worker: Worker;
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startAgentWorker(options: {
  address: string;
  taskQueue: string;
  bundle: WorkflowBundle;
  deps: AgentActivityDeps;
  /** Wrap or replace activities (e.g. to record which worker ran them). */
  activities?: (base: ReturnType<typeof createAgentActivities>) => Record<string, unknown>;
}): Promise<AgentWorker> {
  const connection = await NativeConnection.connect({ address: options.address });
  const base = createAgentActivities(options.deps);
  const worker = await Worker.create({
    connection,
    taskQueue: options.taskQueue,
    workflowBundle: options.bundle,
    activities: options.activities ? options.activities(base) : base,
    shutdownGraceTime: '5s',
  });
  const done = worker.run().finally(() => connection.close());
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

export async function connectClient(address: string): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address }) });
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** How many activities of each type the workflow scheduled (local ones too: `{ local: true }`). */
export function scheduledByType(
  events: HistoryEvent[],
  options: { local?: boolean } = {},
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) {
    const name =
      e.activityTaskScheduledEventAttributes?.activityType?.name ??
      (options.local ? localActivityType(e) : undefined);
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** The activity type a local-activity marker records (its `data` detail is JSON). */
export function localActivityType(event: HistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string };
  return parsed.activity_type;
}

/** Attempt numbers of the started events of one activity type, in order. */
export function startedAttempts(events: HistoryEvent[], activityType: string): number[] {
  const types = new Map<string, string>();
  for (const e of events) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) types.set(String(e.eventId), name);
  }
  return events
    .filter((e) => e.activityTaskStartedEventAttributes)
    .filter((e) => types.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId)) === activityType)
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}
