import { proxyActivities } from '@temporalio/workflow';
import type { EchoActivities, EchoInput, EchoResult } from '../activities/echo.js';

const { echo } = proxyActivities<EchoActivities>({
  startToCloseTimeout: '1 minute',
  // A worker that dies mid-activity is noticed within seconds, and the echo is retried elsewhere.
  heartbeatTimeout: '2 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '2 seconds' },
});

/** The first end-to-end path: gateway → Temporal → worker → back, with no pipeline in between. */
export async function echoWorkflow(input: EchoInput): Promise<EchoResult> {
  return await echo(input);
}
