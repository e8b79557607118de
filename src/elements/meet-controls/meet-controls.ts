import { consume } from '@lit/context';
import { html, nothing, svg, type PropertyValues, type SVGTemplateResult, type TemplateResult } from 'lit';
import { query, state } from 'lit/decorators.js';
import type { LocalMedia } from '../../client/call-types.js';
import type { ReceiveSettings } from '../../client/media/layers.js';
import type { Meeting } from '../../client/meeting.js';
import { dispatchMeetEvent } from '../../events/meet-events.js';
import type { Participant } from '../../protocol/index.js';
import { controlStyles, themeStyles } from '../../styles/tokens.js';
import { MeetElement } from '../meet-element.js';
import { ObserveController } from '../observe-controller.js';
import { meetingContext } from '../meeting-context.js';
import { meetControlsStyles } from './meet-controls.styles.js';
import { ariaShortcut, isTyping, matchesShortcut, shownShortcut, type Shortcut } from '../shortcuts.js';
import {
  mutedHintWakeAt,
  nextMutedHint,
  noMutedHint,
  type MutedHint,
  type MutedHintInput,
} from './muted-hint.js';

type Action = 'microphone' | 'camera' | 'screen-share' | 'raise-hand';

/** Google Meet's keys where it has them, so they are already familiar. */
const shortcuts: Record<Action, Shortcut> = {
  microphone: { key: 'd', alt: false },
  camera: { key: 'e', alt: false },
  'screen-share': { key: 's', alt: true },
  'raise-hand': { key: 'h', alt: true },
};

/**
 * The meeting toolbar: microphone, camera, screen sharing, raised hand and
 * leave. Works with the meeting `<meet-room>` provides (`meetingContext`); the
 * buttons are disabled until this participant has joined.
 *
 * Keyboard shortcuts, with Ctrl (⌘ on a Mac) anywhere on the page except in
 * a text field: D microphone, E camera, Alt+S share screen, Alt+H raise hand.
 *
 * "You are muted", and how to unmute, shows above the microphone button when
 * a muted visitor is heard talking (`meeting.mutedSpeech$`), and is said once
 * by screen readers (politely); it goes a couple of seconds after they stop,
 * at once when they unmute, and does not come back for a while.
 *
 * @tagname meet-controls
 *
 * @event meet-leave - The user pressed Leave. Cancelable: `preventDefault()` keeps them in the meeting.
 * @event meet-report-problem - The user chose "Report a problem" under More; `<meet-room>` opens its report dialog.
 *
 * @csspart toolbar - The toolbar around the buttons.
 * @csspart button - Every button (each also has its own part, below).
 * @csspart microphone - The microphone button.
 * @csspart muted-hint - "You are muted" and how to unmute, above the microphone button while a muted visitor talks.
 * @csspart camera - The camera button.
 * @csspart screen-share - The screen share button (absent where sharing is not supported).
 * @csspart raise-hand - The raise hand button.
 * @csspart leave - The leave button.
 * @csspart more - The More button, which opens the options (data saver, audio only, report a problem).
 * @csspart options - The options under More.
 * @csspart option - Each option under More: a checkbox and what it does.
 * @csspart report-problem - "Report a problem" under More.
 */
export class MeetControls extends MeetElement {
  static override styles = [themeStyles, controlStyles, meetControlsStyles];

  @consume({ context: meetingContext, subscribe: true })
  @state()
  private meeting: Meeting | undefined;

  readonly #self = new ObserveController<Participant | null>(this);
  readonly #local = new ObserveController<LocalMedia>(this, (local) => {
    if (local.microphone) this.#hintOn('unmuted');
  });
  readonly #mutedSpeech = new ObserveController<boolean>(this, (talking) =>
    this.#hintOn(talking ? 'talking' : 'quiet'),
  );
  #mutedHint: MutedHint = noMutedHint;
  #mutedHintTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #receive = new ObserveController<ReceiveSettings>(this);
  @state() private optionsOpen = false;
  @query('[part~="more"]') private moreButton!: HTMLButtonElement | null;

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.#onKeydown);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.#onKeydown);
    this.#hintOn('unmuted');
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('meeting')) {
      this.#hintOn('unmuted');
      this.#self.observe(this.meeting?.self$);
      this.#local.observe(this.meeting?.local$);
      this.#receive.observe(this.meeting?.receiveSettings$);
      this.#mutedSpeech.observe(this.meeting?.mutedSpeech$);
    }
    if (!this.#self.value) this.#hintOn('unmuted');
  }

  /** Moves the "You are muted" hint on, and wakes up when it changes by itself. */
  #hintOn(input: MutedHintInput): void {
    const next = nextMutedHint(this.#mutedHint, input, Date.now());
    if (next === this.#mutedHint) return;
    if (next.shown !== this.#mutedHint.shown) this.requestUpdate();
    this.#mutedHint = next;
    clearTimeout(this.#mutedHintTimer);
    const wakeAt = mutedHintWakeAt(next);
    if (wakeAt !== null)
      this.#mutedHintTimer = setTimeout(() => this.#hintOn('tick'), Math.max(0, wakeAt - Date.now()));
  }

  /** What each button does, or null while it cannot. */
  #action(action: Action): (() => void) | null {
    const self = this.#self.value;
    const meeting = this.meeting;
    if (!meeting || !self) return null;
    if (action === 'raise-hand') return () => meeting.raiseHand(!self.handRaised);
    const local = this.#local.value;
    if (!local) return null;
    // A failure also arrives on the call's errors$, which is where it is shown.
    const settle = (done: Promise<void>) => void done.catch(() => {});
    switch (action) {
      case 'microphone':
        return () => settle(meeting.setMicrophone(!local.microphone));
      case 'camera':
        return () => settle(meeting.setCamera(!local.camera));
      case 'screen-share':
        return meeting.screenShareSupported ? () => settle(meeting.setScreenShare(!local.screen)) : null;
    }
  }

  readonly #onKeydown = (event: KeyboardEvent) => {
    if (event.defaultPrevented || event.repeat || isTyping(event)) return;
    for (const [action, shortcut] of Object.entries(shortcuts) as [Action, Shortcut][]) {
      if (!matchesShortcut(event, shortcut)) continue;
      const run = this.#action(action);
      if (!run) return;
      event.preventDefault();
      run();
      return;
    }
  };

  #leave(): void {
    if (dispatchMeetEvent(this, 'meet-leave', {}, { cancelable: true })) this.meeting?.leave();
  }

  protected override render() {
    const self = this.#self.value;
    const local = this.#local.value;
    const joined = !!this.meeting && !!self;
    return html`<div part="toolbar" role="toolbar" aria-label="Meeting controls">
      <span class="microphone">
        ${this.#toggle(
          'microphone',
          'Microphone',
          !!local?.microphone,
          local?.microphone ? micIcon : micOffIcon,
        )}
        <span class="hint" role="status">${this.#mutedHint.shown ? this.#renderMutedHint() : nothing}</span>
      </span>
      ${this.#toggle('camera', 'Camera', !!local?.camera, local?.camera ? cameraIcon : cameraOffIcon)}
      ${this.meeting?.screenShareSupported === false
        ? nothing
        : this.#toggle('screen-share', 'Share screen', !!local?.screen, screenIcon)}
      ${this.#toggle('raise-hand', 'Raise hand', !!self?.handRaised, handIcon)} ${this.#renderMore()}
      <button
        type="button"
        part="button leave"
        class="danger"
        ?disabled=${!joined}
        @click=${() => this.#leave()}
      >
        ${leaveIcon}<span>Leave</span>
      </button>
    </div>`;
  }

  /**
   * More: a disclosure with the visitor's own options (data saver, audio
   * only), which the meeting remembers. Escape closes it, back on More.
   */
  #renderMore() {
    const receive = this.#receive.value;
    const meeting = this.meeting;
    return html`<button
        type="button"
        part="button more"
        aria-expanded=${this.optionsOpen ? 'true' : 'false'}
        aria-controls="options"
        ?disabled=${!meeting || !this.#self.value}
        @click=${() => (this.optionsOpen = !this.optionsOpen)}
      >
        ${moreIcon}<span>More</span>
      </button>
      <div
        id="options"
        part="options"
        role="group"
        aria-label="Options"
        ?hidden=${!this.optionsOpen || !meeting || !this.#self.value}
        @keydown=${(event: KeyboardEvent) => this.#closeOnEscape(event)}
      >
        ${option('Data saver', 'Lower video quality, less data', !!receive?.dataSaver, (on) =>
          meeting?.setDataSaver(on),
        )}
        ${option('Audio only', 'Receive no video', !!receive?.audioOnly, (on) => meeting?.setAudioOnly(on))}
        <button type="button" part="report-problem" @click=${() => this.#reportProblem()}>
          Report a problem…
        </button>
      </div>`;
  }

  /** Closes More (focus back on it, where the report dialog returns it) and asks for the report. */
  #reportProblem(): void {
    this.optionsOpen = false;
    this.moreButton?.focus();
    dispatchMeetEvent(this, 'meet-report-problem', {});
  }

  #closeOnEscape(event: KeyboardEvent): void {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    this.optionsOpen = false;
    this.moreButton?.focus();
  }

  /** What the hint says, how to unmute included; its status region is always there, so it is announced. */
  #renderMutedHint() {
    return html`<span part="muted-hint"
      ><strong>You are muted.</strong> To talk, turn the microphone on
      (${shownShortcut(shortcuts.microphone)}).</span
    >`;
  }

  /** A button that turns something on and off; its name stays the same, `aria-pressed` tells which. */
  #toggle(action: Action, label: string, pressed: boolean, icon: TemplateResult) {
    const run = this.#action(action);
    const shortcut = shortcuts[action];
    return html`<button
      type="button"
      part="button ${action}"
      aria-pressed=${pressed ? 'true' : 'false'}
      aria-keyshortcuts=${ariaShortcut(shortcut)}
      title="${label} (${shownShortcut(shortcut)})"
      ?disabled=${!run}
      @click=${() => run?.()}
    >
      ${icon}<span>${label}</span>
    </button>`;
  }
}

const icon = (paths: SVGTemplateResult) => html`<svg viewBox="0 0 24 24" aria-hidden="true">${paths}</svg>`;
const slash = svg`<path d="M4 4l16 16" />`;
const mic = svg`<rect x="9" y="3" width="6" height="11" rx="3" /><path d="M5 11a7 7 0 0 0 14 0M12 18v3" />`;
const camera = svg`<rect x="3" y="7" width="12" height="10" rx="2" /><path d="M15 11l6-3v8l-6-3z" />`;
const micIcon = icon(mic);
const micOffIcon = icon(svg`${mic}${slash}`);
const cameraIcon = icon(camera);
const cameraOffIcon = icon(svg`${camera}${slash}`);
const screenIcon = icon(svg`<rect x="3" y="4" width="18" height="12" rx="2" /><path d="M8 20h8M12 16v4" />`);
const handIcon = icon(
  svg`<path
    d="M8 13V6a1.5 1.5 0 0 1 3 0v5M11 11V4.5a1.5 1.5 0 0 1 3 0V11M14 11V6a1.5 1.5 0 0 1 3 0v7a7 7 0 0 1-7 7 6 6 0 0 1-5-2.7l-2.3-3.9a1.5 1.5 0 0 1 2.6-1.5L8 13"
  />`,
);
const moreIcon = icon(
  svg`<circle cx="5" cy="12" r="1.5" /><circle cx="12" cy="12" r="1.5" /><circle cx="19" cy="12" r="1.5" />`,
);

/** One option under More: a checkbox with a line that says what it does. */
function option(label: string, hint: string, checked: boolean, change: (on: boolean) => void) {
  return html`<label part="option">
    <input
      type="checkbox"
      .checked=${checked}
      @change=${(event: Event) => change((event.target as HTMLInputElement).checked)}
    />
    <span>${label}<small>${hint}</small></span>
  </label>`;
}

const leaveIcon = icon(svg`<path d="M10 4H5v16h5M14 8l4 4-4 4M18 12H9" />`);

declare global {
  interface HTMLElementTagNameMap {
    'meet-controls': MeetControls;
  }
}
