import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';

export interface EchoInput {
  text: string;
  /** Hold the activity open this long (heartbeating), to let tests kill a worker mid-flight. */
  delayMs?: number;
}

export interface EchoResult {
  text: string;
  worker: { host: string; pid: number };
  attempt: number;
}

export interface EchoActivities {
  echo(input: EchoInput): Promise<EchoResult>;
}

export function createEchoActivities(): EchoActivities {
  return {
    async echo({ text, delayMs = 0 }) {
      const ctx = Context.current();
      const until = Date.now() + delayMs;
      while (Date.now() < until) {
        ctx.heartbeat();
        await ctx.sleep(Math.min(250, until - Date.now()));
      }
      return { text, worker: { host: hostname(), pid: process.pid }, attempt: ctx.info.attempt };
    },
  };
}
