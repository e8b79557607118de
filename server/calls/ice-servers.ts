/**
 * ICE servers for the browser: Cloudflare TURN when configured (short-lived
 * credentials minted here, never the key itself), else Cloudflare's STUN, and
 * none at all when media goes to a local SFU on loopback.
 */
import * as z from 'zod/mini';
import { CallsError } from './errors.js';
import { turnCredentialsResponse, type IceServer } from './schema.js';

export const CLOUDFLARE_STUN: IceServer = { urls: ['stun:stun.cloudflare.com:3478'] };
const TURN_API = 'https://rtc.live.cloudflare.com/v1/turn/keys';

export interface TurnConfig {
  keyId: string;
  apiToken: string;
  /** Seconds; Cloudflare allows up to 48 h. */
  ttl?: number;
  baseUrl?: string;
  fetch?: typeof fetch;
}

export async function generateTurnServers(config: TurnConfig): Promise<IceServer[]> {
  const doFetch = config.fetch ?? ((input, init) => fetch(input, init));
  const url = `${config.baseUrl ?? TURN_API}/${encodeURIComponent(config.keyId)}/credentials/generate-ice-servers`;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: Math.min(config.ttl ?? 86_400, 172_800) }),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (cause) {
    // Minting credentials changes nothing on Cloudflare's side: asking again later is harmless.
    throw new CallsError(0, 'network_error', `TURN is unreachable: ${String(cause)}`, 'busy');
  }
  const parsed = turnCredentialsResponse.safeParse(await response.json().catch(() => undefined));
  if (!response.ok || !parsed.success) {
    throw new CallsError(
      response.status,
      'turn_error',
      `TURN credentials: ${response.status}`,
      response.status >= 500 || response.status === 429 ? 'busy' : 'rejected',
    );
  }
  return parsed.data.iceServers.map(withoutPort53).filter((server) => urlsOf(server).length > 0);
}

/** Browsers block port 53; a URL on it only slows ICE down. */
function withoutPort53(server: IceServer): IceServer {
  return { ...server, urls: urlsOf(server).filter((url) => !/:53(\?|$)/.test(url)) };
}

const urlsOf = (server: IceServer) => (typeof server.urls === 'string' ? [server.urls] : server.urls);

/** True for a Calls URL on this machine: the local SFU needs (and must get) no STUN or TURN. */
export function isLocalCallsUrl(url: string | undefined): boolean {
  if (!url) return false;
  const host = z.url().safeParse(url).success ? new URL(url).hostname : '';
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** What a browser gets: none for a local SFU, TURN when configured (STUN if TURN fails), else STUN. */
export async function iceServersFor(config: {
  callsApiUrl?: string | undefined;
  turnKeyId?: string | undefined;
  turnApiToken?: string | undefined;
}): Promise<IceServer[]> {
  if (isLocalCallsUrl(config.callsApiUrl)) return [];
  if (config.turnKeyId && config.turnApiToken) {
    try {
      return await generateTurnServers({ keyId: config.turnKeyId, apiToken: config.turnApiToken });
    } catch (error) {
      // STUN still connects most people; a TURN outage must not stop the call.
      console.error('media: TURN credentials failed, serving STUN only', error);
    }
  }
  return [CLOUDFLARE_STUN];
}
