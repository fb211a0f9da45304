// Where Temporal's tools reach the gateway's remote codec (gateway/codec.ts): the CLI with
// `--codec-endpoint <gateway>/codec --codec-auth "Bearer <token>"`, and the Web UI, which cannot
// send a header, at a path holding a key derived from the gateway token. That key opens only the
// codec (never the gateway's other doors), so it may sit in the dev server's command line.

import { createHmac } from 'node:crypto';

export const CODEC_PATH = '/codec';

/** `/codec/ui/<key>`: the codec for the Web UI. */
export function uiCodecPath(gatewayToken: string): string {
  const key = createHmac('sha256', gatewayToken)
    .update('switchyard remote codec for the Temporal Web UI')
    .digest('base64url');
  return `${CODEC_PATH}/ui/${key}`;
}

/** The gateway's base URL as a browser on this machine reaches it (0.0.0.0 means loopback here). */
export function gatewayBaseUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** The origins a browser shows the Web UI under: its URL, and localhost/127.0.0.1 for each other. */
export function uiOrigins(uiUrl: string | undefined): string[] {
  if (!uiUrl) return [];
  let origin: URL;
  try {
    origin = new URL(uiUrl);
  } catch {
    return [];
  }
  const out = new Set([origin.origin]);
  const swap: Record<string, string> = { localhost: '127.0.0.1', '127.0.0.1': 'localhost' };
  const other = swap[origin.hostname];
  if (other) {
    const copy = new URL(origin.origin);
    copy.hostname = other;
    out.add(copy.origin);
  }
  return [...out];
}
