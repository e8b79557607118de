import type { ModerationAction, Participant } from '../../protocol/index.js';

/**
 * What `<meet-room>` tells a visitor only in a meeting: that a host acted on
 * them, and that their connection stays poor. Loaded with the meeting layout
 * (`meeting-view.ts`): the lobby does without it, and nothing here can
 * happen before the meeting's chunk is in (a host acts on someone who joined;
 * quality is scored with `quality.ts`, from the same chunk).
 */

/** Your connection poor this long (already smoothed over seconds, see quality.ts) before you are told. */
const POOR_CONNECTION_NOTICE_MS = 3_000;

const POOR_CONNECTION_NOTICE = 'Your connection is unstable: others may not see or hear you well.';

/** What a visitor is told when a host acts on them. */
const NOTICES: Record<ModerationAction, (host: string) => string> = {
  mute: (host) => `${host} muted you.`,
  'camera-off': (host) => `${host} turned your camera off.`,
  'lower-hand': (host) => `${host} lowered your hand.`,
  'make-host': (host) => `${host} made you a host.`,
};

/** "Ann muted you." */
export const moderationNotice = (action: ModerationAction, by: Participant | null): string =>
  NOTICES[action](by?.name ?? 'A host');

/**
 * Tells this visitor once their own connection has been poor for a while,
 * and not again until it has recovered (they may have dismissed it); says
 * when it is over (`tell(null)`).
 */
export class PoorConnectionNotice {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #told = false;

  constructor(private readonly tell: (notice: string | null) => void) {}

  /** Whether this visitor's connection is poor now (lost is the media connection dropping: not poor). */
  update(poor: boolean): void {
    if (!poor) {
      this.reset();
      this.tell(null);
    } else if (!this.#told && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#told = true;
        this.tell(POOR_CONNECTION_NOTICE);
      }, POOR_CONNECTION_NOTICE_MS);
    }
  }

  /** Forgets the timer and what was told: the room leaves, or connects to another meeting. */
  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#told = false;
  }
}
