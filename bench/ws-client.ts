/**
 * The smallest WebSocket client the bench needs (RFC 6455 over node:http's upgrade): text frames
 * only, masked as a client must, no extensions offered. Node 20 has no global WebSocket without a
 * flag, and the bench uses Node built-ins only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

export interface WsClient {
  /** The next text message (JSON-parsed), in arrival order. Rejects after timeoutMs or on close. */
  next(timeoutMs?: number): Promise<unknown>;
  send(data: unknown): void;
  close(): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Opens ws://host:port/path; rejects when the connection or the upgrade fails. */
export function openWs(url: string, timeoutMs = 5_000): Promise<WsClient> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': key,
        'sec-websocket-version': '13',
      },
      agent: false,
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no upgrade within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`${url}: HTTP ${res.statusCode} instead of an upgrade`));
    });
    req.on('upgrade', (res, socket, head) => {
      const expected = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      if (res.headers['sec-websocket-accept'] !== expected) {
        socket.destroy();
        reject(new Error(`${url}: bad Sec-WebSocket-Accept`));
        return;
      }
      resolve(client(socket, head));
    });
    req.end();
  });
}

function frame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const header =
    len < 126
      ? Buffer.from([0x80 | opcode, 0x80 | len])
      : len < 65_536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff])
        : (() => {
            const h = Buffer.alloc(10);
            h[0] = 0x80 | opcode;
            h[1] = 0x80 | 127;
            h.writeBigUInt64BE(BigInt(len), 2);
            return h;
          })();
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}

function client(socket: Socket, head: Buffer): WsClient {
  let buffer = head;
  let fragments: Buffer[] = [];
  const messages: unknown[] = [];
  let waiter: { resolve: (m: unknown) => void; reject: (e: Error) => void } | undefined;
  let closedWith: Error | undefined;

  const deliver = (message: unknown) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w.resolve(message);
    } else messages.push(message);
  };
  const fail = (err: Error) => {
    closedWith ??= err;
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w.reject(closedWith);
    }
  };

  const parse = () => {
    for (;;) {
      if (buffer.length < 2) return;
      const b0 = buffer[0]!;
      const b1 = buffer[1]!;
      let len = b1 & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buffer.length < 4) return;
        len = buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (buffer.length < 10) return;
        len = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (b1 & 0x80) offset += 4; // servers do not mask, but skip a mask key if one came
      if (buffer.length < offset + len) return;
      const payload = buffer.subarray(offset, offset + len);
      buffer = buffer.subarray(offset + len);
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        fail(new Error(`WebSocket closed by the server (${code} ${payload.subarray(2).toString('utf8')})`));
        socket.end();
        return;
      }
      if (opcode === 0x9) {
        socket.write(frame(0xa, Buffer.from(payload)));
        continue;
      }
      if (opcode === 0xa) continue;
      fragments.push(Buffer.from(payload));
      if (!fin) continue;
      const text = Buffer.concat(fragments).toString('utf8');
      fragments = [];
      try {
        deliver(JSON.parse(text));
      } catch {
        deliver(text);
      }
    }
  };

  socket.on('data', (data: Buffer) => {
    buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
    parse();
  });
  socket.on('close', () => fail(new Error('WebSocket connection closed')));
  socket.on('error', (err) => fail(err));
  parse();

  return {
    next(timeoutMs = 5_000) {
      if (messages.length > 0) return Promise.resolve(messages.shift());
      if (closedWith) return Promise.reject(closedWith);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`no WebSocket message within ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = {
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
      });
    },
    send(data) {
      socket.write(frame(0x1, Buffer.from(typeof data === 'string' ? data : JSON.stringify(data))));
    },
    close() {
      if (!socket.destroyed) {
        socket.write(frame(0x8, Buffer.from([0x03, 0xe8])));
        socket.end();
        setTimeout(() => socket.destroy(), 1_000).unref();
      }
    },
  };
}
