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
