// A loopback HTTP server in front of a test platform server (crabline): it forwards every request
// as it is, except those a test answers itself (`intercept`), and can rewrite JSON answers. Its
// `server` accepts WebSocket upgrades for whoever attaches to it. Used where a platform's wire
// protocol has a part crabline does not serve (Slack's Socket Mode) or a moment a test must
// cause (a dropped gateway connection, a dispatch delivered twice).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type LocalAnswer =
  | { status: number; json: unknown }
  | { status: number; body: Buffer; contentType: string };

export interface ApiProxyOptions {
  /** Origin of the server behind, e.g. http://127.0.0.1:4567. */
  target: string;
  /** Answer a request here instead of forwarding it. */
  intercept?(request: ProxiedRequest): LocalAnswer | undefined;
  /** Change a forwarded JSON answer. */
  rewrite?(request: ProxiedRequest, json: unknown): unknown;
}

export interface ApiProxy {
  server: Server;
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  close(): Promise<void>;
}

export async function startApiProxy(options: ApiProxyOptions): Promise<ApiProxy> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: ProxiedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    try {
      const local = options.intercept?.(request);
      if (local) {
        if ('json' in local) {
          res.writeHead(local.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(local.json));
        } else {
          res.writeHead(local.status, { 'content-type': local.contentType });
          res.end(local.body);
        }
        return;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || name === 'host' || name === 'connection' || name === 'content-length')
          continue;
        headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const answer = await fetch(`${options.target}${request.url}`, {
        method: request.method,
        headers,
        ...(request.method === 'GET' || request.method === 'HEAD'
          ? {}
          : { body: new Uint8Array(request.body) }),
      });
      let body = Buffer.from(await answer.arrayBuffer());
      const type = answer.headers.get('content-type') ?? '';
      if (options.rewrite && type.includes('json') && body.length > 0) {
        body = Buffer.from(JSON.stringify(options.rewrite(request, JSON.parse(body.toString('utf8')))));
      }
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'content-encoding' && name !== 'transfer-encoding') {
          out[name] = value;
        }
      });
      res.writeHead(answer.status, out);
      res.end(body);
    } catch (error) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${String(error)}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
