import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { first, skip, type Subscription } from 'rxjs';
import { FeedbackError } from '../../client/feedback-api.js';
import type { Meeting, MeetingEvent } from '../../client/meeting.js';
import { dispatchMeetEvent } from '../../events/meet-events.js';
import type { Diagnostics } from '../../protocol/feedback.js';
import { isTyping, matchesShortcut } from '../shortcuts.js';
import { DEBUG_SHORTCUT, renderDebugOverlay } from './debug-overlay.js';
import { feedbackErrorMessage, renderRatingPrompt, renderReportDialog } from './feedback-dialogs.js';

export { roomFeedbackStyles } from './room-feedback.styles.js';

/** Where the meetings a visitor was asked to rate are remembered (never asked twice). */
export const ASKED_MEETINGS_KEY = 'meetkit:feedback-asked';
/** The newest this many are kept: enough for anyone's recent meetings in this room's page. */
const ASKED_MEETINGS_KEPT = 50;

/** What the feedback controller needs of `<meet-room>`. */
export interface FeedbackHost extends ReactiveControllerHost, HTMLElement {
  readonly meeting: Meeting | undefined;
  /** No rating prompt after a meeting. */
  readonly noFeedback: boolean;
  readonly renderRoot: HTMLElement | DocumentFragment;
}

interface OverlayState {
  diagnostics: Diagnostics | null;
  copied: 'copied' | 'failed' | null;
  subscription: Subscription;
  returnFocus: HTMLElement | null;
}

interface RatingState {
  meetingId: string;
  rating: number | null;
  sending: boolean;
  error: string | null;
  done: string | null;
}

interface ReportState {
  text: string;
  diagnostics: Diagnostics | null;
  sending: boolean;
  error: string | null;
  subscription: Subscription;
  returnFocus: HTMLElement | null;
  resolve: (id: string | null) => void;
}

/**
 * What `<meet-room>` does for feedback and bug reports, loaded with the
 * meeting layout (the lobby does without it): the debug overlay (its
 * shortcut, a refresh each second while open), the rating prompt after
 * this visitor leaves a meeting (once per meeting, remembered in
 * `localStorage`), and the problem report (`reportProblem()`, or "Report a
 * problem" under More in `<meet-controls>`). It owns every subscription and
 * listener it makes, and drops them when the room leaves the page.
 */
export class RoomFeedback implements ReactiveController {
  #meeting: Meeting | undefined;
  #events: Subscription | undefined;
  /** Whether this visitor is in the meeting: only leaving one asks for a rating. */
  #inMeeting = false;
  #overlay: OverlayState | null = null;
  #rating: RatingState | null = null;
  #report: ReportState | null = null;
  /** Where focus goes after the next render. */
  #focusNext: string | null = null;

  constructor(private readonly host: FeedbackHost) {
    host.addController(this);
  }

  hostConnected(): void {
    window.addEventListener('keydown', this.#onKeydown);
    this.host.addEventListener('meet-report-problem', this.#onReportAsked);
    this.#follow(this.host.meeting);
  }

  hostDisconnected(): void {
    window.removeEventListener('keydown', this.#onKeydown);
    this.host.removeEventListener('meet-report-problem', this.#onReportAsked);
    this.#follow(undefined);
  }

  hostUpdate(): void {
    if (this.host.meeting !== this.#meeting) this.#follow(this.host.meeting);
  }

  hostUpdated(): void {
    const dialog = this.host.renderRoot.querySelector<HTMLDialogElement>('[part="feedback-report"]');
    if (dialog && !dialog.open) dialog.showModal();
    if (!this.#focusNext) return;
    this.host.renderRoot.querySelector<HTMLElement>(this.#focusNext)?.focus();
    this.#focusNext = null;
  }

  /** Opens the debug overlay, or closes it when it is open. */
  toggleDebugOverlay(): void {
    if (this.#overlay) return this.#closeOverlay();
    const meeting = this.#meeting;
    if (!meeting) return;
    const overlay: OverlayState = {
      diagnostics: null,
      copied: null,
      returnFocus: focusedElement(),
      subscription: meeting.diagnostics$.subscribe((diagnostics) => {
        overlay.diagnostics = diagnostics;
        this.host.requestUpdate();
      }),
    };
    this.#overlay = overlay;
    this.#focusNext = '[part="debug-close"]';
    this.host.requestUpdate();
  }

  /**
   * Opens the problem report with `text`, and the diagnostics that go with
   * it; resolves with the report's id once sent, null when cancelled (or a
   * report is open already).
   */
  reportProblem(text = ''): Promise<string | null> {
    const meeting = this.#meeting;
    if (!meeting || this.#report) return Promise.resolve(null);
    return new Promise((resolve) => {
      const report: ReportState = {
        text,
        diagnostics: null,
        sending: false,
        error: null,
        returnFocus: focusedElement(),
        resolve,
        // The second reading: the first has no rates yet. Then it stays as shown: that is what is sent.
        subscription: meeting.diagnostics$.pipe(skip(1), first()).subscribe((diagnostics) => {
          report.diagnostics = diagnostics;
          this.host.requestUpdate();
        }),
      };
      this.#report = report;
      this.#focusNext = '[part="feedback-report"] textarea';
      this.host.requestUpdate();
    });
  }

  render() {
    const overlay = this.#overlay;
    const rating = this.#rating;
    const report = this.#report;
    return html`${rating
      ? renderRatingPrompt({
          ...rating,
          setRating: (value) => this.#updateRating({ rating: value, error: null }),
          send: (comment) => void this.#sendRating(comment),
          skip: () => this.#updateRating(null),
        })
      : nothing}${overlay
      ? renderDebugOverlay({
          ...overlay,
          copy: () => void this.#copy(),
          close: () => this.#closeOverlay(),
        })
      : nothing}${report
      ? renderReportDialog({
          ...report,
          setText: (text) => (report.text = text),
          send: () => void this.#sendReport(),
          cancel: () => this.#closeReport(null),
        })
      : nothing}`;
  }

  /** Follows the room's meeting (another one when its room changes); what was open for the last one closes. */
  #follow(meeting: Meeting | undefined): void {
    this.#events?.unsubscribe();
    this.#closeOverlay();
    this.#closeReport(null);
    this.#rating = null;
    this.#inMeeting = false;
    this.#meeting = meeting;
    this.#events = meeting?.events$.subscribe((event) => this.#onEvent(meeting, event));
  }

  #onEvent(meeting: Meeting, event: MeetingEvent): void {
    if (event.type === 'joined') {
      this.#inMeeting = true;
      // Back in: a prompt about the last meeting is out of place now.
      return this.#updateRating(null);
    }
    // Removed by a host: not the moment to ask (and they were told why they are out).
    const over =
      (event.type === 'left' && event.reason !== 'removed') ||
      (event.type === 'meeting-ended' && event.by !== null);
    if (!over || !this.#inMeeting) return;
    this.#inMeeting = false;
    const meetingId = meeting.meetingId;
    if (this.host.noFeedback || !meetingId || !rememberAsked(meetingId)) return;
    this.#rating = { meetingId, rating: null, sending: false, error: null, done: null };
    this.#focusNext = '[part="feedback-rating"] input';
    this.host.requestUpdate();
  }

  #updateRating(change: Partial<RatingState> | null): void {
    if (!this.#rating) return;
    this.#rating = change && { ...this.#rating, ...change };
    this.host.requestUpdate();
  }

  async #sendRating(comment: string): Promise<void> {
    const rating = this.#rating;
    const meeting = this.#meeting;
    if (!rating || rating.rating === null || rating.sending || !meeting) return;
    this.#updateRating({ sending: true, error: null });
    try {
      const id = await meeting.sendFeedback({
        kind: 'rating',
        meetingId: rating.meetingId,
        rating: rating.rating,
        ...(comment.trim() ? { comment: comment.trim() } : {}),
      });
      if (this.#rating?.meetingId !== rating.meetingId) return;
      this.#updateRating({ sending: false, done: 'Thanks for your feedback.' });
      dispatchMeetEvent(this.host, 'meet-feedback', {
        kind: 'rating',
        id,
        meetingId: rating.meetingId,
        rating: rating.rating,
      });
    } catch (error) {
      if (this.#rating?.meetingId !== rating.meetingId) return;
      // The server has one from this visitor already: nothing more to ask.
      if (error instanceof FeedbackError && error.code === 'already-rated')
        this.#updateRating({ sending: false, done: 'You have rated this meeting already. Thanks!' });
      else this.#updateRating({ sending: false, error: feedbackErrorMessage(error) });
    }
  }

  async #sendReport(): Promise<void> {
    const report = this.#report;
    const meeting = this.#meeting;
    if (!report?.diagnostics || report.sending || !meeting) return;
    report.sending = true;
    report.error = null;
    this.host.requestUpdate();
    try {
      const id = await meeting.sendFeedback({
        kind: 'problem',
        text: report.text,
        diagnostics: report.diagnostics,
      });
      if (this.#report !== report) return;
      dispatchMeetEvent(this.host, 'meet-feedback', {
        kind: 'problem',
        id,
        meetingId: report.diagnostics.meetingId,
      });
      this.#closeReport(id);
    } catch (error) {
      if (this.#report !== report) return;
      report.sending = false;
      report.error = feedbackErrorMessage(error);
      this.host.requestUpdate();
    }
  }

  #closeReport(id: string | null): void {
    const report = this.#report;
    if (!report) return;
    this.#report = null;
    report.subscription.unsubscribe();
    this.host.renderRoot.querySelector<HTMLDialogElement>('[part="feedback-report"]')?.close();
    report.returnFocus?.focus();
    report.resolve(id);
    this.host.requestUpdate();
  }

  async #copy(): Promise<void> {
    const overlay = this.#overlay;
    if (!overlay?.diagnostics) return;
    try {
      await navigator.clipboard.writeText(JSON.stringify(overlay.diagnostics, null, 2));
      overlay.copied = 'copied';
    } catch {
      overlay.copied = 'failed';
    }
    this.host.requestUpdate();
  }

  #closeOverlay(): void {
    const overlay = this.#overlay;
    if (!overlay) return;
    this.#overlay = null;
    overlay.subscription.unsubscribe();
    overlay.returnFocus?.focus();
    this.host.requestUpdate();
  }

  readonly #onKeydown = (event: KeyboardEvent) => {
    if (event.defaultPrevented || event.repeat || isTyping(event) || !matchesShortcut(event, DEBUG_SHORTCUT))
      return;
    event.preventDefault();
    this.toggleDebugOverlay();
  };

  readonly #onReportAsked = () => void this.reportProblem();
}

/** Remembers that this meeting was asked about; false when it had been already (or cannot be remembered). */
function rememberAsked(meetingId: string): boolean {
  try {
    const asked: unknown = JSON.parse(localStorage.getItem(ASKED_MEETINGS_KEY) ?? '[]');
    const ids = Array.isArray(asked) ? asked.filter((id): id is string => typeof id === 'string') : [];
    if (ids.includes(meetingId)) return false;
    localStorage.setItem(ASKED_MEETINGS_KEY, JSON.stringify([...ids, meetingId].slice(-ASKED_MEETINGS_KEPT)));
    return true;
  } catch {
    // Storage blocked (third-party iframe, privacy mode): better not to ask than to ask again and again.
    return false;
  }
}

/** The element that has focus now, inside shadow roots too. */
function focusedElement(): HTMLElement | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active instanceof HTMLElement ? active : null;
}
