// Files reach the blob store, for Slack and Discord: the real connectors download an accepted
// message's files (Slack: url_private with the bot token; Discord: the CDN URL) before handing the
// message on — never for a stranger; a file the platform will not hand over becomes a note.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDiscordConnector, type DiscordConnector } from '../../channels/discord/connector.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { createSlackConnector, type SlackConnector } from '../../channels/slack/connector.js';
import { mayReceiveToken } from '../../channels/slack/files.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { BlobStore } from '../../media/blob-store.js';
import { type FakeDiscord, startFakeDiscord } from '../discord/helpers.js';
import { Inbox, recordingLog, tempDb } from '../telegram/helpers.js';
import { type FakeSlack, startFakeSlack } from './helpers.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('chat files go to the blob store', () => {
  let dir: string;
  let blobs: BlobStore;
  let db: ReturnType<typeof tempDb>;
  let inbox: Inbox<InboundMessage>;
  const logged = recordingLog();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-test-chatfiles-'));
    blobs = new BlobStore({ dir, maxBytes: { video: 100 } });
    db = tempDb();
    inbox = new Inbox();
  });
  afterEach(() => {
    db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('Slack', () => {
    let slack: FakeSlack;
    let connector: SlackConnector;
    beforeEach(async () => {
      slack = await startFakeSlack();
      connector = createSlackConnector({
        mode: 'socket',
        botToken: slack.botToken,
        appToken: slack.appToken,
        apiUrl: slack.apiUrl,
        access: new PairingStore(db.db),
        policy: { dmPolicy: 'pairing', allowFrom: ['U0FILES001'] },
        onInbound: async (msg) => inbox.push(msg),
        log: logged.log,
        attachments: blobs,
      });
      await connector.start();
    });
    afterEach(async () => {
      await connector.stop();
      await slack.close();
    });

    it('downloads a shared image with the bot token and hands on its address; a too-large video becomes a note', async () => {
      const image = Buffer.from('\x89PNG pretend image bytes');
      const video = Buffer.alloc(500, 1);
      await slack.sendFiles({ channel: 'D0FILES001', user: 'U0FILES001', text: 'look' }, [
        { name: 'cat.png', mime: 'image/png', bytes: image },
        { name: 'clip.mp4', mime: 'video/mp4', bytes: video },
      ]);
      const [msg] = await inbox.waitFor(1);
      expect(msg?.attachments).toEqual([
        expect.objectContaining({ kind: 'image', name: 'cat.png', sha256: sha(image), size: image.length }),
        expect.objectContaining({
          kind: 'video',
          name: 'clip.mp4',
          error: expect.stringMatching(/^too large/),
        }),
      ]);
      await expect(blobs.stat(sha(image))).resolves.toMatchObject({ size: image.length });
      expect(slack.downloads()).toEqual([{ path: expect.stringContaining('cat.png'), authorized: true }]);
    });

    it("never fetches a stranger's file", async () => {
      await slack.sendFiles({ channel: 'D0STRANGE9', user: 'U0STRANGE9', text: 'take this' }, [
        { name: 'x.pdf', mime: 'application/pdf', bytes: Buffer.from('%PDF') },
      ]);
      await slack.send({ channel: 'D0FILES001', user: 'U0FILES001', text: 'sentinel' });
      const [msg] = await inbox.waitFor(1);
      expect(msg?.text).toBe('sentinel');
      expect(slack.downloads()).toEqual([]);
    });
  });

  it("sends Slack's bot token only to Slack's hosts or the configured API server", () => {
    const api = 'http://127.0.0.1:4000/api/';
    expect(mayReceiveToken(new URL('https://files.slack.com/files-pri/T1-F1/a.png'), undefined)).toBe(true);
    expect(mayReceiveToken(new URL('http://127.0.0.1:4000/files-pri/x'), api)).toBe(true);
    expect(mayReceiveToken(new URL('https://evil.example/files-pri/x'), api)).toBe(false);
    expect(mayReceiveToken(new URL('https://files.slack.com.evil.example/x'), undefined)).toBe(false);
    expect(mayReceiveToken(new URL('http://files.slack.com/x'), undefined)).toBe(false);
  });

  describe('Discord', () => {
    let discord: FakeDiscord;
    let connector: DiscordConnector;
    beforeEach(async () => {
      discord = await startFakeDiscord();
      connector = createDiscordConnector({
        botToken: discord.botToken,
        apiRoot: discord.apiRoot,
        access: new PairingStore(db.db),
        policy: { groupPolicy: 'open', requireMention: false },
        onInbound: async (msg) => inbox.push(msg),
        log: logged.log,
        attachments: blobs,
      });
      await connector.start();
    });
    afterEach(async () => {
      await connector.stop();
      await discord.close();
    });

    it('downloads an attachment from the CDN URL and hands on its address', async () => {
      const doc = Buffer.from('%PDF-1.4 pretend document');
      await discord.sendFiles(
        {
          channelId: discord.channelId,
          content: 'the report',
          as: { id: '135000000000009901', username: 'bob' },
        },
        [{ name: 'report.pdf', mime: 'application/pdf', bytes: doc }],
      );
      const [msg] = await inbox.waitFor(1);
      expect(msg).toMatchObject({ sender: { id: '135000000000009901' }, text: 'the report' });
      expect(msg?.attachments).toEqual([
        expect.objectContaining({ kind: 'document', name: 'report.pdf', sha256: sha(doc), size: doc.length }),
      ]);
    });
  });
});
