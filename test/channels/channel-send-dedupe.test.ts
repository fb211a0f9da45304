// The send activity with a platform that deduplicates by a sender-chosen id (WhatsApp message
// ids, Discord nonces): a chunk whose earlier call has an unknown outcome is sent again with the
// same id instead of being skipped, so the reply arrives exactly once.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ChannelSender,
  type ChannelSendOptions,
  createChannelSendActivities,
  type SendToChannelInput,
  type SendToChannelResult,
} from '../../activities/channel-send.js';
import { Outbox } from '../../gateway/store/outbox.js';
import { tempDb } from '../telegram/helpers.js';

/** A platform that keeps one message per id, as WhatsApp does per chat. */
function dedupingPlatform() {
  const posted = new Map<string, string>();
  const calls: Array<{ text: string; opts?: ChannelSendOptions }> = [];
  let failNext: 'after-posting' | undefined;
  const sender: ChannelSender = {
    channel: 'whatsapp',
    accountId: 'default',
    textLimit: 100,
    dedupesById: true,
    async send(_chatId, text, opts) {
      calls.push({ text, opts });
      const id = `id-of-${opts?.idempotencyKey}`;
      if (!posted.has(id)) posted.set(id, text);
      if (failNext === 'after-posting') {
        failNext = undefined;
        throw Object.assign(new Error('connection lost before the ack'), { notSent: false });
      }
      return { messageId: id };
    },
  };
  return { sender, posted, calls, failAfterPosting: () => (failNext = 'after-posting') };
}

const input: SendToChannelInput = {
  channel: 'whatsapp',
  accountId: 'default',
  chatId: '15551234567@s.whatsapp.net',
  text: 'hello there',
  idempotencyKey: 'turn:abc:reply',
};

const run = (fn: (i: SendToChannelInput) => Promise<SendToChannelResult>, attempt = 1) =>
  new MockActivityEnvironment({ attempt }).run(fn, input) as Promise<SendToChannelResult>;

describe('sendToChannel with a platform that deduplicates by id', () => {
  let store: ReturnType<typeof tempDb>;
  beforeEach(() => {
    store = tempDb();
  });
  afterEach(() => store.cleanup());

  it('hands every chunk its outbox key, the same on every retry', async () => {
    const platform = dedupingPlatform();
    const activities = createChannelSendActivities({
      outbox: new Outbox(store.db, { runId: 'run-1' }),
      senders: [platform.sender],
    });
    await run(activities.sendToChannel);
    expect(platform.calls.map((c) => c.opts?.idempotencyKey)).toEqual(['turn:abc:reply:0']);
  });

  it('resends a chunk left pending by a gateway that died mid-call; the platform keeps one', async () => {
    const platform = dedupingPlatform();
    // The first gateway run claimed the chunk and posted it, then died before recording the answer.
    const dead = new Outbox(store.db, { runId: 'dead-run' });
    dead.claim({
      key: 'turn:abc:reply:0',
      channel: 'whatsapp',
      accountId: 'default',
      chatId: input.chatId,
      textSha256: 'x',
    });
    await platform.sender.send(input.chatId, input.text, { idempotencyKey: 'turn:abc:reply:0' });

    const outbox = new Outbox(store.db, { runId: 'run-2' });
    const activities = createChannelSendActivities({ outbox, senders: [platform.sender] });
    const result = await run(activities.sendToChannel, 2);
    expect(result).toMatchObject({ uncertain: [], messageIds: ['id-of-turn:abc:reply:0'] });
    expect(platform.calls).toHaveLength(2);
    expect([...platform.posted.values()]).toEqual(['hello there']);
    expect(outbox.get('turn:abc:reply:0')).toMatchObject({
      state: 'sent',
      messageId: 'id-of-turn:abc:reply:0',
    });
  });

  it('retries a call whose outcome is unknown with the same id instead of giving up', async () => {
    const platform = dedupingPlatform();
    const outbox = new Outbox(store.db, { runId: 'run-1' });
    const activities = createChannelSendActivities({ outbox, senders: [platform.sender] });
    platform.failAfterPosting();
    await expect(run(activities.sendToChannel)).rejects.toThrow(/the platform deduplicates/);
    expect(outbox.get('turn:abc:reply:0')?.state).toBe('uncertain');
    const retried = await run(activities.sendToChannel, 2);
    expect(retried.uncertain).toEqual([]);
    expect(platform.posted.size).toBe(1);
    expect(outbox.get('turn:abc:reply:0')?.state).toBe('sent');
  });
});
