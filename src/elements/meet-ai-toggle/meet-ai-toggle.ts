import { consume } from '@lit/context';
import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { AiPresence, MeetingAi } from '../../client/ai-control.js';
import type { Meeting, MeetingError } from '../../client/meeting.js';
import { dispatchMeetEvent } from '../../events/meet-events.js';
import type { Participant } from '../../protocol/index.js';
import { controlStyles, themeStyles } from '../../styles/tokens.js';
import { MeetElement } from '../meet-element.js';
import { meetingContext } from '../meeting-context.js';
import { ObserveController } from '../observe-controller.js';
import {
  ariaShortcut,
  isShortcutKey,
  isTyping,
  matchesShortcut,
  shownShortcut,
  type Shortcut,
} from '../shortcuts.js';
import { meetAiToggleStyles } from './meet-ai-toggle.styles.js';

/** Held down, anywhere on the page but a text field: talk to the AI. */
export const TALK_SHORTCUT: Shortcut = { key: 'a', alt: true };

/** The errors of the AI's own messages, shown here as well as fired by `<meet-room>`. */
const AI_ERRORS: ReadonlySet<string> = new Set(['ai-unavailable', 'ai-busy', 'ai-failed']);

const stateText: Record<AiPresence, string> = {
  off: 'The AI is not in the meeting.',
  connecting: 'The AI is joining…',
  listening: 'The AI is listening.',
  thinking: 'The AI is thinking…',
  speaking: 'The AI is speaking.',
  error: 'The AI ran into a problem and left the call.',
};

/** The agent can hear a turn in these states. */
const ready: ReadonlySet<AiPresence> = new Set(['listening', 'thinking', 'speaking']);

/**
 * The meeting's AI agent: what it is doing, Invite / Remove (for those the
 * server allows), and a hold-to-talk button. While you hold it the AI hears
 * your microphone (it is turned on if it was off); when you let go it
 * answers, everyone hears it, and its words show as captions. One person
 * holds it at a time, and everyone sees who.
 *
 * Hold the button (pointer, or Space / Enter while it has focus), or hold
 * Ctrl+Alt+A (⌥⌘A on a Mac) anywhere on the page except in a text field.
 *
 * Works with the meeting `<meet-room>` provides (`meetingContext`), which
 * shows it in its default layout when the server has an AI.
 *
 * @tagname meet-ai-toggle
 *
 * @event meet-ai-state - The agent's state changed. `detail.state`: `off`, `connecting`, `listening`, `thinking`, `speaking` or `error`.
 * @event meet-ai-caption - What the AI says: `detail.text` so far, `detail.final` once the answer is whole.
 *
 * @csspart panel - The group around everything.
 * @csspart state - The agent's state, in words.
 * @csspart invite - The Invite AI button (also Retry after an error).
 * @csspart remove - The Remove AI button.
 * @csspart talk - The hold-to-talk button.
 * @csspart talker - Who is talking to the AI now.
 * @csspart caption - The AI's last whole answer (a polite live region).
 * @csspart error - Why the last request did not work.
 */
export class MeetAiToggle extends MeetElement {
  static override styles = [themeStyles, controlStyles, meetAiToggleStyles];

  /**
   * What the agent is doing (`off` while it is not in the meeting), reflected
   * for styling: `meet-ai-toggle[state='speaking']`. Set by the element.
   */
  @property({ reflect: true }) state: AiPresence = 'off';

  @consume({ context: meetingContext, subscribe: true })
  @state()
  private meeting: Meeting | undefined;

  @state() private problem: string | null = null;

  readonly #self = new ObserveController<Participant | null>(this);
  readonly #ai = new ObserveController<MeetingAi>(this, (ai) => this.#onAi(ai));
  readonly #errors = new ObserveController<MeetingError>(this, (error) => this.#onError(error));
  #lastState: AiPresence | undefined;
  #lastCaption: MeetingAi['caption'] = null;
  /** Held by the keyboard shortcut (released when its letter or modifiers come up). */
  #shortcutHeld = false;
  /** Held by a key on the focused button or a pointer: the click that follows is not a toggle. */
  #pressHeld = false;

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.#onWindowKeydown);
    window.addEventListener('keyup', this.#onWindowKeyup);
    window.addEventListener('blur', this.#onWindowBlur);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.#onWindowKeydown);
    window.removeEventListener('keyup', this.#onWindowKeyup);
    window.removeEventListener('blur', this.#onWindowBlur);
    // Gone from the page while holding: let go, or the turn would only end at the maximum hold.
    if (this.#ai.value?.talking) void this.meeting?.talkToAi(false);
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('meeting')) {
      this.#self.observe(this.meeting?.self$);
      this.#ai.observe(this.meeting?.ai$);
      this.#errors.observe(this.meeting?.errors$);
    }
  }

  #onAi(ai: MeetingAi): void {
    this.state = ai.state;
    if (ai.state !== this.#lastState) {
      if (this.#lastState !== undefined || ai.state !== 'off')
        dispatchMeetEvent(this, 'meet-ai-state', { state: ai.state });
      this.#lastState = ai.state;
      if (ai.state === 'listening') this.problem = null;
    }
    if (ai.caption && ai.caption !== this.#lastCaption)
      dispatchMeetEvent(this, 'meet-ai-caption', { ...ai.caption });
    this.#lastCaption = ai.caption;
  }

  #onError(error: MeetingError): void {
    if (!AI_ERRORS.has(error.code)) return;
    const talker = this.#ai.value?.talker;
    const holder = 'holder' in error && error.holder && talker?.id === error.holder ? talker : null;
    this.problem = holder ? `${holder.name} is talking to the AI. Wait for them to finish.` : error.message;
  }

  #talk(on: boolean): void {
    if (on) this.problem = null;
    // A failure comes back on errors$ (shown here) or as the microphone's own error.
    void this.meeting?.talkToAi(on);
  }

  get #canTalk(): boolean {
    return !!this.#self.value && ready.has(this.#ai.value?.state ?? 'off');
  }

  readonly #onWindowKeydown = (event: KeyboardEvent) => {
    if (event.defaultPrevented || event.repeat || isTyping(event)) return;
    if (!matchesShortcut(event, TALK_SHORTCUT) || !this.#canTalk) return;
    event.preventDefault();
    this.#shortcutHeld = true;
    this.#talk(true);
  };

  readonly #onWindowKeyup = (event: KeyboardEvent) => {
    if (!this.#shortcutHeld) return;
    const modifier = ['Control', 'Meta', 'Alt'].includes(event.key);
    if (!modifier && !isShortcutKey(event, TALK_SHORTCUT)) return;
    this.#shortcutHeld = false;
    this.#talk(false);
  };

  /** Keys let go in another window never come up here. */
  readonly #onWindowBlur = () => {
    if (!this.#shortcutHeld && !this.#pressHeld) return;
    this.#shortcutHeld = false;
    this.#pressHeld = false;
    this.#talk(false);
  };

  readonly #onTalkKeydown = (event: KeyboardEvent): void => {
    if (event.key !== ' ' && event.key !== 'Enter') return;
    // No click from this key: holding is the action.
    event.preventDefault();
    if (event.repeat || this.#pressHeld) return;
    this.#pressHeld = true;
    this.#talk(true);
  };

  readonly #onTalkKeyup = (event: KeyboardEvent): void => {
    if (event.key !== ' ' && event.key !== 'Enter') return;
    event.preventDefault();
    this.#release();
  };

  readonly #onTalkPointerdown = (event: PointerEvent): void => {
    if (event.button !== 0) return;
    // Keeps the pointer's up and cancel here even if it slides off the button.
    (event.currentTarget as Element).setPointerCapture(event.pointerId);
    this.#pressHeld = true;
    this.#talk(true);
  };

  readonly #release = (): void => {
    if (!this.#pressHeld) return;
    this.#pressHeld = false;
    this.#talk(false);
  };

  /**
   * A click with no pointer or key press before it: a screen reader's
   * activation, which cannot hold. It toggles instead.
   */
  readonly #onTalkClick = (event: MouseEvent): void => {
    if (event.detail !== 0 || this.#pressHeld) return;
    this.#talk(!this.#ai.value?.talking);
  };

  protected override render() {
    const ai = this.#ai.value;
    const self = this.#self.value;
    if (!ai || !self) return nothing;
    if (!ai.available)
      return html`<div part="panel" role="group" aria-label="AI assistant">
        <span part="state">The AI is not available here.</span>
      </div>`;
    const present = ai.state !== 'off';
    const talker = ai.talker;
    return html`<div part="panel" role="group" aria-label="AI assistant">
      <span part="state" role="status">${stateText[ai.state]}</span>
      ${ai.mayManage && (!present || ai.state === 'error')
        ? html`<button type="button" part="invite" class="primary" @click=${() => this.#invite()}>
            ${ai.state === 'error' ? 'Retry' : 'Invite AI'}
          </button>`
        : nothing}
      ${present && ai.state !== 'error'
        ? html`<button
            type="button"
            part="talk"
            class=${ai.talking ? 'primary' : ''}
            aria-pressed=${ai.talking ? 'true' : 'false'}
            aria-keyshortcuts=${ariaShortcut(TALK_SHORTCUT)}
            title="Hold to talk to the AI (${shownShortcut(TALK_SHORTCUT)})"
            ?disabled=${!this.#canTalk}
            @keydown=${this.#onTalkKeydown}
            @keyup=${this.#onTalkKeyup}
            @pointerdown=${this.#onTalkPointerdown}
            @pointerup=${this.#release}
            @pointercancel=${this.#release}
            @lostpointercapture=${this.#release}
            @blur=${this.#release}
            @click=${this.#onTalkClick}
            @contextmenu=${(event: Event) => event.preventDefault()}
          >
            Talk to AI
          </button>`
        : nothing}
      ${ai.mayManage && present
        ? html`<button type="button" part="remove" @click=${() => this.meeting?.removeAi()}>
            Remove AI
          </button>`
        : nothing}
      ${talker
        ? html`<span part="talker"
            >${talker.id === self.id
              ? 'You are talking to the AI.'
              : `${talker.name} is talking to the AI.`}</span
          >`
        : nothing}
      ${this.problem ? html`<span part="error" role="alert">${this.problem}</span>` : nothing}
      <p part="caption" aria-live="polite" ?hidden=${!ai.caption?.final}>
        ${ai.caption?.final ? ai.caption.text : ''}
      </p>
    </div>`;
  }

  #invite(): void {
    this.problem = null;
    this.meeting?.inviteAi();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'meet-ai-toggle': MeetAiToggle;
  }
}
