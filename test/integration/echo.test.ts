import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import { testConfig, uniqueTaskQueue } from '../helpers/config.js';

describe('the echo path: gateway → Temporal → worker → back', () => {
  const address = inject('temporalAddress');
  const taskQueue = uniqueTaskQueue('echo');
  const token = 'test-token-0123456789abcdef';
  let worker: RunningWorker;
  let gateway: Gateway;
  let url: string;

  beforeAll(async () => {
    const config = testConfig(address, { SWITCHYARD_TASK_QUEUE: taskQueue });
    worker = await startWorker({ config });
    gateway = await buildGateway({ config, token, logger: false });
    url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await worker?.shutdown();
  });

  it('answers POST /v1/echo with the text, after a real workflow ran on the worker', async () => {
    const res = await fetch(`${url}/v1/echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello, switchyard' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { text: string; workflowId: string; worker: { pid: number } };
    expect(body.text).toBe('hello, switchyard');
    expect(body.worker.pid).toBe(process.pid);
    const description = await gateway.client.workflow.getHandle(body.workflowId).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.taskQueue).toBe(taskQueue);
  });

  it('refuses a request without the gateway token and starts no workflow', async () => {
    const res = await fetch(`${url}/v1/echo`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'sneaky' }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/gateway token/);
  });

  it('explains a malformed body instead of starting a workflow', async () => {
    const res = await fetch(`${url}/v1/echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ txt: 'typo' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/must have required property 'text'/);
  });

  it('reports ready with one worker polling the task queue', async () => {
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, temporal: { ok: true, address }, workers: 1 });
  });
});
