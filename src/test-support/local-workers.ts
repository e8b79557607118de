/** URLs of the Workers the test runner started (see web-test-runner.config.mjs). */
export interface LocalWorkers {
  /** Open rooms. */
  open: string;
  /** Rooms that need a join token signed with the test secret. */
  secured: string;
}

let workers: Promise<LocalWorkers> | undefined;

export function localWorkers(): Promise<LocalWorkers> {
  workers ??= fetch('/__meetkit__/workers.json').then((response) => response.json() as Promise<LocalWorkers>);
  return workers;
}

let counter = 0;
/** A room name no other test uses. */
export const freshRoom = (label: string) => `${label}-${Date.now().toString(36)}-${++counter}`;

/** Counters of the local SFU the test runner started. */
export interface SfuStats {
  sessions: number;
  publishedTracks: number;
  pulledTracks: number;
  forwardedPackets: number;
  faultsInjected: number;
}

export async function sfuStats(): Promise<SfuStats> {
  return (await fetch('/__meetkit__/sfu/stats')).json() as Promise<SfuStats>;
}

/** Makes the local SFU fail or slow down its Calls API (`{}`: back to normal). See its README. */
export async function injectCallsFaults(faults: {
  status?: number;
  rate?: number;
  failNext?: number;
  delayMs?: number;
  dropResponseNext?: number;
  batchErrorNext?: number;
  failCloseItemNext?: number;
  errorCode?: string;
  pathIncludes?: string;
}) {
  const query = new URLSearchParams(Object.entries(faults).map(([k, v]) => [k, String(v)]));
  await fetch(`/__meetkit__/sfu/faults?${query.toString()}`);
}

/**
 * Packet loss (0–1) and delay (ms) on one Calls session's media at the local
 * SFU, `direction` `both` (default), `to-browser` or `from-browser`, only the
 * RTP of one m-line with `mid`; no loss and no delay clears it.
 */
export async function impairMedia(settings: {
  sessionId: string;
  loss?: number;
  delayMs?: number;
  direction?: 'both' | 'to-browser' | 'from-browser';
  mid?: string;
}): Promise<void> {
  const query = new URLSearchParams(Object.entries(settings).map(([k, v]) => [k, String(v)]));
  const answer = (await (await fetch(`/__meetkit__/sfu/impairments?${query.toString()}`)).json()) as {
    error?: string;
  };
  if (answer.error) throw new Error(`impairMedia: ${answer.error}`);
}

/** What the local SFU holds for one Calls session (a track ref's `sessionId`), and the requests it got. */
export interface SfuSessionInfo {
  open: boolean;
  published: string[];
  /** When each published track (by name) last brought a packet to the SFU (ms since the epoch). */
  lastPacketAt: Record<string, number>;
  pulled: number;
  requests: {
    tracksNew: number;
    renegotiate: number;
    tracksClose: number;
    tracksUpdate: number;
    get: number;
    total: number;
  };
}

export async function sfuSession(id: string): Promise<SfuSessionInfo> {
  return (await fetch(`/__meetkit__/sfu/sessions/${id}`)).json() as Promise<SfuSessionInfo>;
}

/** Requests that change a session's negotiation: a new offer or answer, or a close. */
export const negotiations = ({ requests }: SfuSessionInfo) =>
  requests.tracksNew + requests.renegotiate + requests.tracksClose;

/** Makes the local SFU drop a session, as if it crashed or the network cut it off. */
export async function dropSfuSession(id: string): Promise<void> {
  await fetch(`/__meetkit__/sfu/sessions/${id}/drop`);
}

/** A TCP proxy in front of the open Worker: point a client at `url`, then cut or blackhole its path. */
export interface TestProxy {
  url: string;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  /** Keeps connections open but lets nothing through, like a path that drops packets. */
  blackhole(): Promise<void>;
  restore(): Promise<void>;
  /** Connections it accepted so far. */
  accepted(): Promise<number>;
}

export async function proxyToOpenWorker(): Promise<TestProxy> {
  const { id, url } = (await (await fetch('/__meetkit__/proxy/new')).json()) as { id: string; url: string };
  const act = async (action: string) =>
    (await (await fetch(`/__meetkit__/proxy/${id}/${action}`)).json()) as { accepted: number };
  return {
    url,
    cut: async () => void (await act('cut')),
    blackhole: async () => void (await act('blackhole')),
    restore: async () => void (await act('restore')),
    accepted: async () => (await act('stats')).accepted,
  };
}
