/**
 * The browser's only way out: a small HTTP proxy on loopback, one per conversation's browser
 * context, that every request of the page goes through — navigations, each redirect hop,
 * images, scripts, frames, fetches, WebSockets (plain requests and CONNECT tunnels alike;
 * Chromium's usual loopback bypass is switched off with `<-loopback>`). Each host passes
 * web_fetch's address policy, and the connection goes only to the addresses that passed (no DNS
 * rebinding between check and connect). Playwright's route interception is not enough for this:
 * it never sees redirect hops, which Chromium follows by itself.
 */
import { once } from 'node:events';
import http from 'node:http';
import net, { type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ResolvedAddress } from './address-policy.js';

export interface GuardProxyOptions {
  /** The addresses `host` may be reached at; throws (AddressRefused, HostNotFound) when it may not. */
  check(host: string): Promise<ResolvedAddress[]>;
  /** Why a request was not let through: a refusal is the policy's, anything else the network's. */
  onBlocked(url: string, why: string, refused: boolean): void;
  /** Is this error the policy refusing (rather than, say, a name that does not resolve)? */
  isRefusal(error: unknown): boolean;
}

export interface GuardProxy {
  /** `http://127.0.0.1:<port>`, for the context's `proxy.server`. */
  url: string;
  close(): Promise<void>;
}

/** Set on the answer to a refused plain-HTTP request, so the tool can tell it from a site's own 403. */
export const REFUSED_HEADER = 'x-switchyard-refused';

const HOP_BY_HOP = [
  'proxy-connection',
  'proxy-authorization',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
];

export async function startGuardProxy(options: GuardProxyOptions): Promise<GuardProxy> {
  const sockets = new Set<net.Socket | Duplex>();
  const blocked = (url: string, error: unknown) => {
    const why = (error as Error)?.message ?? String(error);
    const refused = options.isRefusal(error);
    options.onBlocked(url, why, refused);
    return { why, refused };
  };

  const server = http.createServer(async (req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URLs only');
      return;
    }
    let addresses: ResolvedAddress[];
    try {
      addresses = await options.check(target.hostname);
    } catch (error) {
      const { why, refused } = blocked(target.href, error);
      res
        .writeHead(refused ? 403 : 502, {
          'content-type': 'text/plain; charset=utf-8',
          ...(refused ? { [REFUSED_HEADER]: encodeURIComponent(why) } : {}),
        })
        .end(`Switchyard did not open ${target.href}: ${why}`);
      return;
    }
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port || 80,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers,
        lookup: pinned(addresses),
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      blocked(target.href, error);
      if (!res.headersSent)
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`could not reach ${target.host}`);
      else res.destroy();
    });
    req.pipe(upstream);
  });

  // https and WebSockets: a tunnel to host:port, opened only to checked addresses.
  const tunnel = async (client: Duplex, authority: string, head: Buffer, rawRequest?: string) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    const { hostname, port } = new URL(`http://${authority}`);
    const host = hostname.replace(/^\[|\]$/g, '');
    let addresses: ResolvedAddress[];
    try {
      addresses = await options.check(host);
    } catch (error) {
      const { refused } = blocked(`https://${authority}/`, error);
      client.end(`HTTP/1.1 ${refused ? '403 Forbidden' : '502 Bad Gateway'}\r\n\r\n`);
      return;
    }
    const upstream = net.connect({ host, port: Number(port || 443), lookup: pinned(addresses) });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      if (rawRequest === undefined) client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      else upstream.write(rawRequest);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      blocked(`https://${authority}/`, error);
      client.destroy();
    });
  };
  server.on('connect', (req, socket, head) => void tunnel(socket, req.url ?? '', head));
  server.on('upgrade', (req, socket, head) => {
    const target = new URL(req.url ?? '', 'http://invalid');
    const lines = [`${req.method} ${target.pathname}${target.search} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    void tunnel(socket, target.host, head, `${lines.join('\r\n')}\r\n\r\n`);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A socket lookup that answers only with the addresses already checked. */
function pinned(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = family ? addresses.filter((a) => a.family === family) : addresses;
    if (options.all) callback(null, usable);
    else if (usable[0]) callback(null, usable[0].address, usable[0].family);
    else callback(Object.assign(new Error(`no IPv${family} address`), { code: 'ENOTFOUND' }), '');
  };
}
