/**
 * A GET over node:http(s) whose socket connects only to addresses the given resolver returned.
 * Checking a host and then letting `fetch` resolve it again would leave a gap (DNS rebinding:
 * public at check time, 127.0.0.1 at connect time); here the check IS the connection's lookup.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { ResolvedAddress } from './address-policy.js';

/** The slice of `fetch` web_fetch uses; the global `fetch` fits it. */
export type FetchLike = (
  url: string,
  init: { method: 'GET'; redirect: 'manual'; headers: Record<string, string>; signal: AbortSignal },
) => Promise<Response>;

export function pinnedFetch(resolve: (hostname: string) => Promise<ResolvedAddress[]>): FetchLike {
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = family ? addresses.filter((a) => a.family === family) : addresses;
        if (options.all) callback(null, usable);
        else if (usable[0]) callback(null, usable[0].address, usable[0].family);
        else
          callback(
            Object.assign(new Error(`no IPv${family} address for ${hostname}`), { code: 'ENOTFOUND' }),
            '',
          );
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };

  return (url, init) =>
    new Promise<Response>((settle, reject) => {
      const target = new URL(url);
      const transport = target.protocol === 'https:' ? https : http;
      const request = transport.request(
        target,
        {
          method: 'GET',
          headers: { ...init.headers, 'accept-encoding': 'gzip, deflate, br' },
          signal: init.signal,
          lookup,
        },
        (response) => {
          try {
            settle(toResponse(response));
          } catch (error) {
            response.destroy();
            reject(error);
          }
        },
      );
      request.on('error', reject);
      request.end();
    });
}

function toResponse(response: http.IncomingMessage): Response {
  const status = response.statusCode ?? 0;
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
      headers.append(name, v);
  }
  let body: Readable = response;
  const decoder = decompressor(headers.get('content-encoding'));
  if (decoder) {
    body = pipeline(response, decoder, () => {});
    headers.delete('content-encoding');
    headers.delete('content-length');
  }
  const empty = status === 204 || status === 304;
  if (empty) response.resume();
  return new Response(empty ? null : (Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>), {
    status,
    statusText: response.statusMessage ?? '',
    headers,
  });
}

function decompressor(encoding: string | null) {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}
