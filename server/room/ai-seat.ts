/**
 * The room's seat for its AI agent (issue 8): at most one `Agent`, shown to
 * everyone as a participant with `role: 'agent'`, its `aiState`, and its
 * voice as `tracks.microphone`; who holds push-to-talk (one at a time); the
 * agent's own ways out (no human left, idle, end of meeting). The room
 * decides who asks (roles, `AI_POLICY`); the seat decides what that does.
 *
 * What must outlive the object (the agent's snapshot, its participant, the
 * talker and the deadlines) is written to the room's SQLite on each change;
 * deadlines are served by the room's one alarm (`deadline()` / `tick()`).
 */
import type { AiState, ErrorCode, LeaveReason, Participant } from '../../src/protocol/index.js';
import { Agent, type AgentSnapshot, type AgentState } from '../ai/agent.js';
import { workerSideband } from '../ai/worker-sideband.js';
import type { CallsClient } from '../calls/client.js';
import type { AiConfig, AiPolicy } from './ai-config.js';
import type { Broadcast } from './broadcaster.js';
import { newParticipantId } from './connections.js';

/** Captions longer than this are cut (the protocol's limit). */
const CAPTION_MAX_LENGTH = 8 * 1024;

export interface AiSeatHooks {
  broadcast: Broadcast;
  /** Tells one participant why their request (a message of type `cause`) failed. */
  tell(participantId: string, code: ErrorCode, message: string, cause: string): void;
  /**
   * Work that must finish even if nobody waits for it (the agent's joining,
   * turns and teardown). The room awaits it in the event that started it:
   * what it sends to the room's sockets after that event ended is lost.
   */
  background(work: Promise<unknown>): void;
  /** A deadline changed: the room's alarm must cover `deadline()`. */
  deadlineChanged(): void;
}

/** A refusal, for the room to send as a typed `error`. */
export interface AiRefusal {
  code: ErrorCode;
  message: string;
  holder?: string;
}

interface SeatRecord {
  participant: Participant;
  /** Set once the agent is in the meeting: what `Agent.restore()` needs after a restart. */
  agent: AgentSnapshot | null;
  talker: string | null;
  talkStartedAt: number | null;
  /** When the agent joined or the last turn ended: the idle time counts from here. */
  lastActiveAt: number;
}

const IN_MEETING: ReadonlySet<AiState | undefined> = new Set(['listening', 'thinking', 'speaking']);

export class AiSeat {
  #record: SeatRecord | null = null;
  #agent: Agent | null = null;
  /** The current turn's `startTalking`: true once the holder is heard. */
  #talking: Promise<boolean> = Promise.resolve(false);
  #tableReady = false;

  constructor(
    private readonly config: AiConfig | null,
    private readonly calls: CallsClient | null,
    private readonly storage: DurableObjectStorage,
    private readonly hooks: AiSeatHooks,
    private readonly roomName: () => string,
  ) {}

  get available(): boolean {
    return this.config !== null && this.calls !== null;
  }

  /** Who may invite and remove the agent, for the snapshot (the UI hides what one may not do). */
  get manage(): AiPolicy {
    return this.config?.policy ?? 'host';
  }

  get talker(): string | null {
    return this.#record?.talker ?? null;
  }

  /** The agent as a participant, for snapshots and the media API's pull check. */
  participants(): Participant[] {
    return this.#record ? [this.#record.participant] : [];
  }

  /**
   * Takes back what the object had before a restart. Nobody is connected
   * now, so nobody holds push-to-talk; with no human left the agent goes.
   */
  load(humans: number): void {
    if (!this.#hasTable()) return;
    this.#tableReady = true;
    const row = this.storage.sql.exec<{ record: string }>('SELECT record FROM ai_seat').toArray()[0];
    if (!row) return;
    const record = JSON.parse(row.record) as SeatRecord;
    this.#record = { ...record, talker: null, talkStartedAt: null };
    const snapshot = record.agent;
    if (humans === 0 || !snapshot || !this.config || !this.calls) {
      // An invite that was under way died with the object: nothing to take back.
      if (humans > 0 && !snapshot)
        return this.#failed('The AI was interrupted while joining: invite it again');
      if (snapshot && this.config && this.calls) {
        const agent = this.#newAgent();
        this.hooks.background(agent.restore(snapshot).finally(() => agent.remove()));
      }
      return this.#forget();
    }
    this.#save();
    const agent = this.#newAgent();
    this.#agent = agent;
    agent.restore(snapshot).then(
      () => this.#entered(agent, null),
      () => undefined, // `error` came through onState, with its reason.
    );
  }

  /** Brings the agent in; refused without AI, idempotent while it is there. */
  invite(by: Participant, now: number): AiRefusal | null {
    if (!this.config || !this.calls)
      return { code: 'ai-unavailable', message: 'This server has no AI (OPENAI_API_KEY is not set)' };
    if (!this.#mayManage(by)) return { code: 'forbidden', message: 'Only a host can invite the AI' };
    const present = this.#record;
    if (present && present.participant.aiState !== 'error') return null;

    const agent = this.#newAgent();
    this.#agent = agent;
    if (present) {
      present.participant.aiState = 'connecting';
      present.lastActiveAt = now;
      this.#save();
      this.hooks.broadcast.participantChanged(present.participant.id, { aiState: 'connecting' }, true);
    } else {
      this.#record = {
        participant: {
          id: newParticipantId(),
          name: this.config.name,
          role: 'agent',
          joinedAt: now,
          aiState: 'connecting',
          microphone: true,
          camera: false,
          handRaised: false,
          tracks: {},
        },
        agent: null,
        talker: null,
        talkStartedAt: null,
        lastActiveAt: now,
      };
      this.#save();
      this.hooks.broadcast.toAll({ type: 'participant-joined', participant: this.#record.participant });
    }
    this.hooks.deadlineChanged();
    this.hooks.background(
      agent.invite().then(
        () => this.#entered(agent, Date.now()),
        (error: unknown) => {
          // Its `error` state came first (through onState) and let go of it; removed, it is `ended`.
          if (agent.state === 'error' && this.#agent === null && this.#record)
            this.hooks.tell(by.id, 'ai-failed', `The AI could not join: ${messageOf(error)}`, 'ai-invite');
        },
      ),
    );
    return null;
  }

  /** Sends the agent away at someone's request. */
  removeBy(by: Participant): AiRefusal | null {
    if (!this.#mayManage(by)) return { code: 'forbidden', message: 'Only a host can remove the AI' };
    this.remove('left');
    return null;
  }

  /**
   * The agent leaves: everyone is told (unless the room is closing anyway)
   * and everything it holds on OpenAI and Calls is ended in the background.
   */
  remove(reason: LeaveReason, announce = true): void {
    const record = this.#record;
    const agent = this.#agent;
    if (!record) return;
    this.#forget();
    if (announce) {
      if (record.talker) this.hooks.broadcast.toAll({ type: 'ai-talker', id: null });
      this.hooks.broadcast.forget(record.participant.id);
      this.hooks.broadcast.toAll({ type: 'participant-left', id: record.participant.id, reason });
    }
    if (agent) this.hooks.background(agent.remove());
  }

  /** Push-to-talk: `on` takes it if nobody else holds it; off ends the turn and the AI answers. */
  talk(self: Participant, on: boolean, now: number): AiRefusal | null {
    const record = this.#record;
    const agent = this.#agent;
    if (!on) {
      if (record?.talker === self.id) this.#release(now);
      return null;
    }
    if (!this.available) return { code: 'ai-unavailable', message: 'This server has no AI' };
    if (!record || !agent || !IN_MEETING.has(record.participant.aiState))
      return { code: 'ai-unavailable', message: 'The AI is not in the meeting' };
    if (record.talker === self.id) return null;
    if (record.talker)
      return { code: 'ai-busy', message: 'Someone else is talking to the AI', holder: record.talker };
    const microphone = self.tracks.microphone;
    if (!microphone) return { code: 'ai-failed', message: 'Turn your microphone on to talk to the AI' };

    record.talker = self.id;
    record.talkStartedAt = now;
    this.#save();
    this.hooks.broadcast.toAll({ type: 'ai-talker', id: self.id });
    this.hooks.deadlineChanged();
    const [sessionId = '', trackName = ''] = microphone.split('/');
    // One pull into the agent's session at a time: Calls refuses a second while one negotiates (406).
    const talking = this.#talking
      .then(() => agent.startTalking({ sessionId, trackName }))
      .then(
        () => true,
        (error: unknown) => {
          if (this.#agent === agent && this.#record?.talker === self.id) {
            this.#release(Date.now(), false);
            this.hooks.tell(
              self.id,
              'ai-failed',
              `The AI could not hear you: ${messageOf(error)}`,
              'ai-talk',
            );
          }
          return false;
        },
      );
    this.#talking = talking;
    this.hooks.background(talking);
    return null;
  }

  /** A human's connection dropped or they left: they hold push-to-talk no more. */
  humanGone(id: string, now: number): void {
    if (this.#record?.talker === id) this.#release(now);
  }

  /** The next moment `tick()` has something to do, or null. */
  deadline(): number | null {
    const record = this.#record;
    if (!record || !this.config) return null;
    if (record.talker !== null && record.talkStartedAt !== null)
      return record.talkStartedAt + this.config.maxTalkMs;
    // Joining is bounded by the agent's own timeouts; the idle time counts once it is in.
    if (record.participant.aiState === 'connecting') return null;
    return record.lastActiveAt + this.config.idleMs;
  }

  /** From the room's alarm: ends a turn held too long, sends an idle agent away. */
  tick(now: number): void {
    const deadline = this.deadline();
    if (deadline === null || now < deadline) return;
    if (this.#record?.talker) this.#release(now);
    else this.remove('timed-out');
  }

  /** Ends the turn; the AI answers what it heard unless the turn never started. */
  #release(now: number, answer = true): void {
    const record = this.#record;
    const agent = this.#agent;
    if (!record?.talker) return;
    record.talker = null;
    record.talkStartedAt = null;
    record.lastActiveAt = now;
    this.#save();
    this.hooks.broadcast.toAll({ type: 'ai-talker', id: null });
    this.hooks.deadlineChanged();
    if (!answer || !agent) return;
    this.hooks.background(
      this.#talking.then((heard) => {
        if (heard && this.#agent === agent) agent.stopTalking();
      }),
    );
  }

  /**
   * The agent is in the meeting: its voice can be pulled, and it can be taken
   * back after a restart. `joinedAt` starts the idle time (null: taken back,
   * the idle time goes on from before).
   */
  #entered(agent: Agent, joinedAt: number | null): void {
    const record = this.#record;
    const snapshot = agent.snapshot();
    if (this.#agent !== agent || !record || !snapshot) return;
    const microphone = `${snapshot.track.sessionId}/${snapshot.track.trackName}`;
    record.agent = snapshot;
    record.participant.tracks = { microphone };
    if (joinedAt !== null) record.lastActiveAt = joinedAt;
    this.#save();
    this.hooks.deadlineChanged();
    this.hooks.broadcast.participantChanged(
      record.participant.id,
      { tracks: record.participant.tracks, aiState: record.participant.aiState },
      true,
    );
  }

  #onState(agent: Agent, state: AgentState, reason?: string): void {
    if (this.#agent !== agent || !this.#record) return;
    if (state === 'error') return this.#failed(reason ?? 'The AI left after a failure');
    if (state === 'idle' || state === 'ended' || this.#record.participant.aiState === state) return;
    this.#record.participant.aiState = state;
    this.#save();
    // Urgent: merged with the next change, `speaking` would never be seen. The server drives it, not a client.
    this.hooks.broadcast.participantChanged(this.#record.participant.id, { aiState: state }, true);
  }

  /**
   * The agent failed and nothing of it is left: it stays in the grid as
   * `error` (so a host can invite it again), with no voice and no talker.
   */
  #failed(reason: string): void {
    const record = this.#record;
    if (!record) return;
    console.warn(`ai: ${reason}`);
    this.#agent = null;
    if (record.talker) this.hooks.broadcast.toAll({ type: 'ai-talker', id: null });
    record.talker = null;
    record.talkStartedAt = null;
    record.agent = null;
    record.participant.aiState = 'error';
    record.participant.tracks = {};
    this.#save();
    this.hooks.deadlineChanged();
    this.hooks.broadcast.participantChanged(record.participant.id, { aiState: 'error', tracks: {} }, true);
  }

  #newAgent(): Agent {
    const config = this.config!;
    const agent: Agent = new Agent({
      calls: this.calls!,
      openai: config.openai,
      session: config.session,
      openSideband: workerSideband(),
      sidebandTimeoutMs: config.timeoutMs,
      correlationId: this.roomName() || undefined,
      onState: (state, reason) => this.#onState(agent, state, reason),
      onCaption: ({ text, final }) => {
        const record = this.#record;
        if (this.#agent !== agent || !record) return;
        this.hooks.broadcast.toAll({
          type: 'ai-caption',
          id: record.participant.id,
          text: text.slice(0, CAPTION_MAX_LENGTH),
          final,
        });
      },
      onWarning: (message) => console.warn(`ai: ${message}`),
    });
    return agent;
  }

  #mayManage(by: Participant): boolean {
    return this.config?.policy === 'anyone' || by.role === 'host';
  }

  #forget(): void {
    this.#record = null;
    this.#agent = null;
    this.#talking = Promise.resolve(false);
    if (this.#tableReady) this.storage.sql.exec('DELETE FROM ai_seat');
  }

  #save(): void {
    if (!this.#record) return;
    if (!this.#tableReady) {
      this.storage.sql.exec(
        'CREATE TABLE IF NOT EXISTS ai_seat (id INTEGER PRIMARY KEY, record TEXT NOT NULL)',
      );
      this.#tableReady = true;
    }
    this.storage.sql.exec(
      'INSERT INTO ai_seat (id, record) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record',
      JSON.stringify(this.#record),
    );
  }

  #hasTable(): boolean {
    return (
      this.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ai_seat'").toArray()
        .length > 0
    );
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
