import type { Config } from '../config/config.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';

/** Loads the configuration, or prints every problem and exits 2 (the user must fix the file). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** Base URL a local client uses to reach the gateway (on `port` when it listens elsewhere than configured). */
export function gatewayUrl(config: Config, port = config.gateway.port): string {
  const host = config.gateway.host === '0.0.0.0' ? '127.0.0.1' : config.gateway.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The port a gateway reported in its start line (`gateway listening on http://host:port …`). */
export function reportedGatewayPort(line: string): number | undefined {
  const match = /gateway listening on http:\/\/(?:\[[^\]]+\]|[^:/\s]+):(\d+)/.exec(line);
  return match ? Number(match[1]) : undefined;
}
