// The `connect` request: protocol negotiation, shared-secret and device authentication, pairing.
// Messages, codes and details follow what OpenClaw's own gateway answers (as recorded from real
// sessions, e.g. test/protocol/fixtures/cli-capture.jsonl): a wrong token is
// INVALID_REQUEST/AUTH_TOKEN_MISMATCH, a client with neither credentials nor device is
// NOT_PAIRED/DEVICE_IDENTITY_REQUIRED, an unpaired remote device is NOT_PAIRED/PAIRING_REQUIRED;
// every refusal is followed by close 1008.
import type { ErrorShape } from '@openclaw/gateway-protocol';
import {
  buildPairingConnectCloseReason,
  buildPairingConnectErrorDetails,
  buildPairingConnectErrorMessage,
  resolveDeviceAuthConnectErrorDetailCode,
} from '@openclaw/gateway-protocol/connect-error-details';
import { MIN_NODE_PROTOCOL_VERSION, PROTOCOL_VERSION } from '@openclaw/gateway-protocol/version';
import type { DeviceStore } from '../../store/devices.js';
import type { AuthRateLimiter } from './auth-rate-limit.js';
import { sameSecret, verifyDeviceProof } from './device-auth.js';
import { protocolError } from './frames.js';
import { READ, WRITE } from './scopes.js';
import type { GatewayRole } from './services.js';
import type { ConnectRequest } from './validators.js';

export type AuthConfig =
  | { mode: 'token'; token: string }
  | { mode: 'password'; password: string }
  | { mode: 'none' };

export interface HandshakeEnv {
  auth: AuthConfig;
  devices: DeviceStore;
  rateLimiter: AuthRateLimiter;
  now: () => number;
}

export interface ConnectOrigin {
  nonce: string;
  remoteAddress: string;
  isLocal: boolean;
}

export interface Admission {
  protocol: number;
  role: GatewayRole;
  scopes: string[];
  method: 'token' | 'password' | 'device-token' | 'none';
  deviceId?: string;
  deviceToken?: { token: string; issuedAtMs: number };
}

export type ConnectOutcome =
  | { ok: true; admission: Admission }
  | { ok: false; error: ErrorShape; closeReason: string };

function refuse(error: ErrorShape, closeReason = error.message): ConnectOutcome {
  return { ok: false, error, closeReason };
}

function negotiateProtocol(params: ConnectRequest, role: GatewayRole): number | undefined {
  const lowest = role === 'node' ? MIN_NODE_PROTOCOL_VERSION : PROTOCOL_VERSION;
  if (params.maxProtocol >= PROTOCOL_VERSION && params.minProtocol <= PROTOCOL_VERSION)
    return PROTOCOL_VERSION;
  if (params.maxProtocol >= lowest && params.minProtocol <= params.maxProtocol) return params.maxProtocol;
  return undefined;
}

export function admitConnect(
  params: ConnectRequest,
  origin: ConnectOrigin,
  env: HandshakeEnv,
): ConnectOutcome {
  const role: GatewayRole = params.role === 'node' ? 'node' : 'operator';
  if (params.role !== undefined && params.role !== 'operator' && params.role !== 'node') {
    return refuse(protocolError('INVALID_REQUEST', `invalid role: ${params.role}`));
  }
  const protocol = negotiateProtocol(params, role);
  if (protocol === undefined) {
    return refuse(
      protocolError('INVALID_REQUEST', 'protocol mismatch', {
        details: { code: 'PROTOCOL_MISMATCH', expectedProtocol: PROTOCOL_VERSION },
      }),
    );
  }
  const requestedScopes = [...new Set(params.scopes ?? (role === 'operator' ? [READ, WRITE] : []))];
  const retryAfterMs = env.rateLimiter.retryAfterMs(origin.remoteAddress, origin.isLocal);
  if (retryAfterMs > 0) {
    return refuse(
      protocolError(
        'INVALID_REQUEST',
        'unauthorized: too many failed authentication attempts (retry later)',
        {
          details: { code: 'AUTH_RATE_LIMITED', authReason: 'rate_limited' },
          retryable: true,
          retryAfterMs,
        },
      ),
    );
  }
  const failed = (outcome: ConnectOutcome) => {
    env.rateLimiter.recordFailure(origin.remoteAddress, origin.isLocal);
    return outcome;
  };

  const auth = params.auth ?? {};
  const device = params.device;
  if (device) {
    const proof = verifyDeviceProof(
      device,
      {
        clientId: params.client.id,
        clientMode: params.client.mode,
        role,
        scopes: params.scopes ?? [],
        platform: params.client.platform,
        deviceFamily: params.client.deviceFamily,
        tokens: [auth.token, auth.deviceToken, auth.bootstrapToken, auth.password],
      },
      origin.nonce,
      env.now(),
    );
    if (!proof.ok) {
      const message =
        proof.reason === 'device-signature-stale'
          ? 'device signature expired'
          : `device auth failed: ${proof.reason}`;
      return failed(
        refuse(
          protocolError('INVALID_REQUEST', message, {
            details: { code: resolveDeviceAuthConnectErrorDetailCode(proof.reason), reason: proof.reason },
          }),
        ),
      );
    }
  }

  // Credentials: shared secret, or a device token bound to the signed device.
  let method: Admission['method'] | undefined;
  let tokenScopes: string[] | undefined;
  let presentedDeviceToken: string | undefined;
  const tryDeviceToken = (token: string | undefined) => {
    if (!device || !token) return false;
    const verified = env.devices.verifyToken(device.id, role, token);
    if (!verified) return false;
    method = 'device-token';
    tokenScopes = verified.scopes;
    presentedDeviceToken = token;
    return true;
  };

  if (env.auth.mode === 'token' && auth.token !== undefined) {
    // Some clients (openclaw-node) send their stored device token in `auth.token`.
    if (sameSecret(auth.token, env.auth.token)) method = 'token';
    else if (!tryDeviceToken(auth.token)) {
      return failed(
        refuse(
          protocolError(
            'INVALID_REQUEST',
            "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)",
            {
              details: {
                code: 'AUTH_TOKEN_MISMATCH',
                authReason: 'token_mismatch',
                canRetryWithDeviceToken: false,
                recommendedNextStep: 'update_auth_credentials',
              },
            },
          ),
        ),
      );
    }
  } else if (env.auth.mode === 'password' && auth.password !== undefined) {
    if (sameSecret(auth.password, env.auth.password)) method = 'password';
    else {
      return failed(
        refuse(
          protocolError('INVALID_REQUEST', 'unauthorized: gateway password mismatch', {
            details: {
              code: 'AUTH_PASSWORD_MISMATCH',
              authReason: 'password_mismatch',
              recommendedNextStep: 'update_auth_credentials',
            },
          }),
        ),
      );
    }
  } else if (auth.deviceToken !== undefined) {
    if (!device) {
      return refuse(
        protocolError('NOT_PAIRED', 'device identity required', {
          details: { code: 'DEVICE_IDENTITY_REQUIRED' },
        }),
      );
    }
    if (!tryDeviceToken(auth.deviceToken)) {
      return failed(
        refuse(
          protocolError('INVALID_REQUEST', 'unauthorized: device token mismatch (re-pair the device)', {
            details: {
              code: 'AUTH_DEVICE_TOKEN_MISMATCH',
              authReason: 'device_token_mismatch',
              recommendedNextStep: 'update_auth_credentials',
            },
          }),
        ),
      );
    }
  } else if (env.auth.mode === 'none') {
    method = 'none';
  }

  if (!method) {
    if (!device) {
      return refuse(
        protocolError('NOT_PAIRED', 'device identity required', {
          details: { code: 'DEVICE_IDENTITY_REQUIRED' },
        }),
      );
    }
    const missing = env.auth.mode === 'password' ? 'password' : 'token';
    return failed(
      refuse(
        protocolError('INVALID_REQUEST', `unauthorized: gateway ${missing} missing`, {
          details: {
            code: missing === 'password' ? 'AUTH_PASSWORD_MISSING' : 'AUTH_TOKEN_MISSING',
            authReason: `${missing}_missing`,
            recommendedNextStep: 'update_auth_credentials',
          },
        }),
      ),
    );
  }
  env.rateLimiter.recordSuccess(origin.remoteAddress);

  if (!device) {
    // Deviceless clients with the shared secret (the CLI, scripts) get what they ask for.
    return { ok: true, admission: { protocol, role, scopes: requestedScopes, method } };
  }

  // Pairing: a device token proves a past approval; otherwise the device must be approved,
  // which happens on first sight for loopback clients and through `switchyard devices approve` for others.
  let scopes = requestedScopes;
  if (method === 'device-token') {
    const granted = tokenScopes ?? [];
    scopes = params.scopes ? requestedScopes.filter((s) => granted.includes(s)) : granted;
  } else {
    const sighting = {
      deviceId: device.id,
      publicKey: device.publicKey,
      role,
      scopes: requestedScopes,
      clientId: params.client.id,
      clientMode: params.client.mode,
      platform: params.client.platform,
      deviceFamily: params.client.deviceFamily,
      remoteAddress: origin.remoteAddress,
    };
    const known = env.devices.get(device.id);
    const covers =
      known?.status === 'approved' &&
      (known.role === role || role === 'operator') &&
      requestedScopes.every((s) => known.scopes.includes(s));
    let record = known;
    if (!record || !covers) {
      record = env.devices.requestPairing(sighting);
      if (origin.isLocal)
        record = env.devices.approve(device.id, { role, scopes: requestedScopes }) ?? record;
    }
    const approved = record;
    if (approved.status !== 'approved' || !requestedScopes.every((s) => approved.scopes.includes(s))) {
      const reason = approved.approvedAt ? 'scope-upgrade' : 'not-paired';
      const details = buildPairingConnectErrorDetails({
        reason,
        requestId: approved.requestId,
        deviceId: device.id,
        requestedRole: role,
        requestedScopes,
        recommendedNextStep: 'wait_then_retry',
        pauseReconnect: true,
      });
      return refuse(
        protocolError('NOT_PAIRED', buildPairingConnectErrorMessage(reason), { details: { ...details } }),
        buildPairingConnectCloseReason({ reason, requestId: approved.requestId }),
      );
    }
  }
  const deviceToken =
    method === 'device-token' && presentedDeviceToken
      ? { token: presentedDeviceToken, issuedAtMs: env.now() }
      : env.devices.issueToken(device.id, role, scopes);
  return { ok: true, admission: { protocol, role, scopes, method, deviceId: device.id, deviceToken } };
}
