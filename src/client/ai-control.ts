/**
 * The meeting's AI agent as a visitor meets it: whether there is one to
 * invite, what it is doing, who holds push-to-talk, what it is saying, and
 * the three things one can do (invite, remove, talk). DOM-free; the meeting
 * (`meeting.ts`) exposes it and `<meet-ai-toggle>` renders it.
 *
 * The room decides everything (who may invite, who holds talk); this only
 * asks, and follows what the room says.
 */
import {
  BehaviorSubject,
  combineLatest,
  distinctUntilChanged,
  filter,
  firstValueFrom,
  map,
  race,
  scan,
  startWith,
  timer,
  type Observable,
  type Subscription,
} from 'rxjs';
import type { AiState, Participant } from '../protocol/index.js';
import type { RoomClient } from './room-client.js';
import { selfOf } from './room-state.js';

/** What the agent is doing; `off` while it is not in the meeting. */
export type AiPresence = AiState | 'off';

/**
 * What the AI is saying: pieces add up while it speaks (`final: false`),
 * then the whole answer replaces them (`final: true`).
 */
export interface AiCaption {
  text: string;
  final: boolean;
}

export interface MeetingAi {
  /** This server has an AI to invite (else the toggle hides). */
  available: boolean;
  state: AiPresence;
  /** The agent's participant while it is in the meeting. */
  agent: Participant | null;
  /** Who holds push-to-talk now, or null. */
  talker: Participant | null;
  /** This visitor asked to talk and has not let go (the room may not have said yes yet). */
  talking: boolean;
  /** This visitor may invite and remove it (the room's policy and their role). */
  mayManage: boolean;
  /** The latest answer, while the agent is in the meeting. */
  caption: AiCaption | null;
}

export interface AiControl {
  readonly ai$: Observable<MeetingAi>;
  invite(): void;
  remove(): void;
  /**
   * Holds push-to-talk (`true`) or lets go (`false`). Holding turns the
   * microphone on if it is off, since the AI hears the holder's microphone;
   * it stays on after.
   */
  talk(on: boolean): Promise<void>;
  close(): void;
}

const AI_REFUSALS: ReadonlySet<string> = new Set(['ai-busy', 'ai-unavailable', 'ai-failed', 'not-joined']);

/** How long holding waits for a microphone just turned on to be published, before giving up. */
const MICROPHONE_READY_MS = 10_000;

export function createAiControl(room: RoomClient, setMicrophone: (on: boolean) => Promise<void>): AiControl {
  const wantsToTalk = new BehaviorSubject(false);
  /** An `ai-talk on` went out since the last `off`: letting go must say so. */
  let askedToTalk = false;

  const agent$ = room.participants$.pipe(
    map((people) => people.find((p) => p.role === 'agent') ?? null),
    distinctUntilChanged(),
  );
  const captions$ = room.events$.pipe(
    filter((event) => event.type === 'ai-caption'),
    scan<{ text: string; final: boolean }, AiCaption | null>(
      (shown, piece) =>
        piece.final || !shown || shown.final
          ? { text: piece.text, final: piece.final }
          : { text: shown.text + piece.text, final: false },
      null,
    ),
    startWith(null),
  );

  const ai$ = combineLatest([room.state$, agent$, captions$, wantsToTalk]).pipe(
    map(([state, agent, caption, talking]): MeetingAi => {
      const self = selfOf(state);
      return {
        available: state.ai.available,
        state: agent?.aiState ?? (agent ? 'connecting' : 'off'),
        agent,
        talker: state.participants.find((p) => p.id === state.ai.talker) ?? null,
        talking: talking && !!self,
        mayManage: !!self && (state.ai.manage === 'anyone' || self.role === 'host'),
        caption: agent ? caption : null,
      };
    }),
    distinctUntilChanged(sameAi),
  );

  // The room let go for us (maximum hold, a reconnect, the agent left): stop wanting it.
  let heldByUs = false;
  const subscriptions: Subscription[] = [
    room.state$.subscribe((state) => {
      const holds = state.selfId !== null && state.ai.talker === state.selfId;
      if (heldByUs && !holds && wantsToTalk.value) {
        askedToTalk = false;
        wantsToTalk.next(false);
      }
      heldByUs = holds;
    }),
    // Refused (someone else holds it, no agent, it could not hear us): not talking.
    room.errors$.pipe(filter((error) => AI_REFUSALS.has(error.code))).subscribe(() => {
      askedToTalk = false;
      wantsToTalk.next(false);
    }),
  ];

  /** Resolves true once this participant's microphone is on and published, false if it does not come. */
  const microphoneReady = () =>
    firstValueFrom(
      race(
        room.self$.pipe(
          filter((self) => !!self?.microphone && !!self.tracks.microphone),
          map(() => true),
        ),
        timer(MICROPHONE_READY_MS).pipe(map(() => false)),
        wantsToTalk.pipe(
          filter((wanted) => !wanted),
          map(() => false),
        ),
      ),
      { defaultValue: false },
    );

  return {
    ai$,
    invite: () => room.inviteAi(),
    remove: () => room.removeAi(),
    async talk(on) {
      if (!on) {
        wantsToTalk.next(false);
        if (askedToTalk) room.talkToAi(false);
        askedToTalk = false;
        return;
      }
      if (wantsToTalk.value) return;
      wantsToTalk.next(true);
      await setMicrophone(true).catch(() => {}); // A denied microphone is reported on errors$.
      if (!(await microphoneReady()) || !wantsToTalk.value) {
        wantsToTalk.next(false);
        return;
      }
      askedToTalk = true;
      room.talkToAi(true);
    },
    close() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      wantsToTalk.complete();
    },
  };
}

function sameAi(a: MeetingAi, b: MeetingAi): boolean {
  return (
    a.available === b.available &&
    a.state === b.state &&
    a.agent === b.agent &&
    a.talker === b.talker &&
    a.talking === b.talking &&
    a.mayManage === b.mayManage &&
    a.caption === b.caption
  );
}
