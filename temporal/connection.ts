import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from '../config/config.js';

/** Connection options shared by the client (gateway, CLI) and the worker's NativeConnection. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/** TEMPORAL_ADDRESS / temporal.address when set, else where the embedded dev server listens. */
export function effectiveAddress(config: Config): string {
  const { ip, port } = config.temporal.devServer;
  return config.temporal.address ?? `${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${port}`;
}

export function connectionOptions(
  config: Config,
  address = effectiveAddress(config),
): TemporalConnectionOptions {
  const { tls, apiKey } = config.temporal;
  const options: TemporalConnectionOptions = { address };
  if (tls) {
    options.tls = {
      serverNameOverride: tls.serverName,
      serverRootCACertificate: tls.serverRootCaCertFile ? readFileSync(tls.serverRootCaCertFile) : undefined,
      clientCertPair:
        tls.clientCertFile && tls.clientKeyFile
          ? { crt: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) }
          : undefined,
    };
  }
  if (apiKey) {
    options.apiKey = apiKey;
    options.tls ??= true; // Temporal Cloud API keys are only accepted over TLS.
  }
  return options;
}

/** Base URL of the Temporal Web UI, when one is known. */
export function temporalUiUrl(config: Config): string | undefined {
  if (config.temporal.uiUrl) return config.temporal.uiUrl.replace(/\/$/, '');
  if (config.temporal.address || config.temporal.devServer.headless) return undefined;
  const { ip, uiPort } = config.temporal.devServer;
  return `http://${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${uiPort}`;
}

/** A link to one workflow in the Web UI. */
export function workflowUiLink(config: Config, workflowId: string, runId?: string): string | undefined {
  const base = temporalUiUrl(config);
  if (!base) return undefined;
  const ns = encodeURIComponent(config.temporal.namespace);
  return `${base}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}/history`;
}
