// `switchyard approvals list|approve|deny`: answer the tool calls that wait for the owner
// (tools marked `approval: 'required'`), straight over Temporal.
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  type ApprovalDecision,
  ApprovalError,
  listApprovals,
  resolveApprovalById,
} from '../../client/approvals.js';
import { printLine, table } from '../output.js';
import { connectFromConfig, type TemporalWhere, withOpened } from '../temporal.js';

export interface ApprovalsCommandsContext {
  /** A Temporal client, and how to let it go; defaults to the configured server. */
  connect?: () => Promise<{ client: Client; close: () => Promise<void> } & TemporalWhere>;
  /** Clock for "expires in"; default Date.now. */
  now?: () => number;
}

export function registerApprovalsCommands(program: Command, ctx: ApprovalsCommandsContext = {}): void {
  const connect = ctx.connect ?? connectFromConfig;
  const now = ctx.now ?? Date.now;
  const withClient = <T>(cmd: Command, fn: (client: Client, taskQueue?: string) => Promise<T>): Promise<T> =>
    withOpened(
      cmd,
      connect,
      'approvals',
      (error) => (error instanceof ApprovalError ? error.code : undefined),
      (opened) => fn(opened.client, opened.taskQueue),
    );
  const print = printLine;

  const approvals = program
    .command('approvals')
    .description("Tool calls waiting for the owner's approval (tools marked approval: required)");

  approvals
    .command('list')
    .description('Show pending approvals, oldest first')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, cmd: Command) => {
      const list = await withClient(cmd, (client, taskQueue) => listApprovals(client, { taskQueue }));
      if (options.json) return print(cmd, JSON.stringify(list, null, 2));
      if (list.length === 0) return print(cmd, 'No pending approvals.');
      print(
        cmd,
        table(
          ['ID', 'TOOL', 'EXPIRES IN', 'WORKFLOW', 'ARGUMENTS'],
          list.map((a) => [a.id, a.tool, remaining(a.expiresAt - now()), a.workflowId, a.args]),
        ),
      );
    });

  const resolve = async (
    cmd: Command,
    id: string,
    decision: ApprovalDecision,
    options: { reason?: string; workflow?: string },
  ) => {
    const result = await withClient(cmd, (client, taskQueue) =>
      resolveApprovalById(client, id, decision, {
        ...(taskQueue ? { taskQueue } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
        ...(options.workflow ? { workflowId: options.workflow } : {}),
      }),
    );
    const what = result.tool ? `${result.tool} in ${result.workflowId}` : result.workflowId;
    print(cmd, `${result.status === 'approved' ? 'Approved' : 'Denied'} ${result.id} (${what}).`);
  };

  approvals
    .command('approve <id>')
    .description('Let the waiting tool call run')
    .option('--workflow <id>', 'the workflow waiting for it (skips the lookup)')
    .action((id: string, options: { workflow?: string }, cmd: Command) =>
      resolve(cmd, id, 'approve', options),
    );

  approvals
    .command('deny <id>')
    .description('Refuse the waiting tool call; the agent is told, with the reason')
    .option('--reason <text>', 'why (the agent reads it)')
    .option('--workflow <id>', 'the workflow waiting for it (skips the lookup)')
    .action((id: string, options: { reason?: string; workflow?: string }, cmd: Command) =>
      resolve(cmd, id, 'deny', options),
    );
}

function remaining(ms: number): string {
  if (ms <= 0) return 'now';
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
