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

/** Base URL a local client uses to reach the gateway. */
export function gatewayUrl(config: Config): string {
  const host = config.gateway.host === '0.0.0.0' ? '127.0.0.1' : config.gateway.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.gateway.port}`;
}
