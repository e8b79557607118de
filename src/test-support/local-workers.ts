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

/** Makes the local SFU fail or slow down its Calls API (all zero: back to normal). */
export async function injectCallsFaults(faults: {
  status?: number;
  rate?: number;
  failNext?: number;
  delayMs?: number;
}) {
  const query = new URLSearchParams(Object.entries(faults).map(([k, v]) => [k, String(v)]));
  await fetch(`/__meetkit__/sfu/faults?${query.toString()}`);
}

/** What the local SFU holds for one Calls session (a track ref's `sessionId`). */
export async function sfuSession(
  id: string,
): Promise<{ open: boolean; published: string[]; pulled: number }> {
  return (await fetch(`/__meetkit__/sfu/sessions/${id}`)).json() as Promise<{
    open: boolean;
    published: string[];
    pulled: number;
  }>;
}

/** Makes the local SFU drop a session, as if it crashed or the network cut it off. */
export async function dropSfuSession(id: string): Promise<void> {
  await fetch(`/__meetkit__/sfu/sessions/${id}/drop`);
}
