import { html } from 'lit';
import { FeedbackError } from '../../client/feedback-api.js';
import type { Diagnostics } from '../../protocol/feedback.js';
import { PROBLEM_TEXT_MAX_LENGTH, RATING_COMMENT_MAX_LENGTH } from '../../protocol/feedback-limits.js';
import { trackTable } from './debug-overlay.js';

const RATINGS = ['Very bad', 'Bad', 'OK', 'Good', 'Very good'] as const;

/** The rating prompt after a meeting: what it holds, and what it may do. */
export interface RatingView {
  rating: number | null;
  sending: boolean;
  /** Why the last Send failed; null when it did not. */
  error: string | null;
  /** Sent (or rated already): the prompt says thanks instead. */
  done: string | null;
  setRating(rating: number): void;
  send(comment: string): void;
  skip(): void;
}

/**
 * "How was the call?": a 1–5 radio group (arrow keys move within it), an
 * optional comment, Send and Skip. A form in the room, not a modal: the
 * lobby stays usable under it.
 */
export function renderRatingPrompt(view: RatingView) {
  if (view.done)
    return html`<div part="feedback-rating" class="feedback-done" role="status">
      <span>${view.done}</span>
      <button type="button" @click=${() => view.skip()}>Close</button>
    </div>`;
  return html`<form
    part="feedback-rating"
    aria-labelledby="rating-title"
    @submit=${(event: SubmitEvent) => {
      event.preventDefault();
      const form = event.currentTarget as HTMLFormElement;
      view.send((form.elements.namedItem('comment') as HTMLTextAreaElement).value);
    }}
  >
    <h2 id="rating-title">How was the call?</h2>
    <fieldset part="feedback-stars">
      <legend>Your rating, from 1 (very bad) to 5 (very good)</legend>
      ${RATINGS.map(
        (label, i) =>
          html`<label
            ><input
              type="radio"
              name="rating"
              value=${i + 1}
              .checked=${view.rating === i + 1}
              @change=${() => view.setRating(i + 1)}
            />${i + 1} <span class="muted">${label}</span></label
          >`,
      )}
    </fieldset>
    <label class="comment"
      >Comment (optional)
      <textarea name="comment" rows="2" maxlength=${RATING_COMMENT_MAX_LENGTH}></textarea>
    </label>
    <p part="feedback-error" role="alert">${view.error ?? ''}</p>
    <div class="actions">
      <button type="button" @click=${() => view.skip()}>Skip</button>
      <button class="primary" type="submit" ?disabled=${view.rating === null || view.sending}>Send</button>
    </div>
  </form>`;
}

/** The problem report: what it holds, and what it may do. */
export interface ReportView {
  text: string;
  /** What will be sent with the text; null while it is being read. */
  diagnostics: Diagnostics | null;
  sending: boolean;
  error: string | null;
  setText(text: string): void;
  send(): void;
  cancel(): void;
}

/**
 * "Report a problem": the visitor's words, and, before Send, exactly what
 * goes with them (the diagnostics, readable). A modal `<dialog>`: Escape
 * cancels, and focus goes back where it was.
 */
export function renderReportDialog(view: ReportView) {
  const d = view.diagnostics;
  return html`<dialog
    part="feedback-report"
    aria-labelledby="report-title"
    @cancel=${(event: Event) => {
      event.preventDefault();
      view.cancel();
    }}
  >
    <form
      @submit=${(event: SubmitEvent) => {
        event.preventDefault();
        view.send();
      }}
    >
      <h2 id="report-title">Report a problem</h2>
      <label
        >What went wrong?
        <textarea
          name="text"
          rows="4"
          required
          maxlength=${PROBLEM_TEXT_MAX_LENGTH}
          .value=${view.text}
          @input=${(event: InputEvent) => view.setText((event.target as HTMLTextAreaElement).value)}
        ></textarea>
      </label>
      <details part="feedback-diagnostics" open>
        <summary>Sent with it: diagnostics of this browser's connection</summary>
        ${d
          ? html`<dl>
                <dt>Browser</dt>
                <dd>${d.browser}</dd>
                <dt>Meeting</dt>
                <dd>${d.meetingId ?? '–'}</dd>
                <dt>Calls session</dt>
                <dd>${d.callsSessionId ?? '–'}</dd>
                <dt>Connections</dt>
                <dd>room ${d.room}, media ${d.media}</dd>
                <dt>Recent errors</dt>
                <dd>
                  ${d.errors.length === 0
                    ? 'None'
                    : html`<ul>
                        ${d.errors.map(
                          (e) =>
                            html`<li>${new Date(e.at).toLocaleTimeString()} ${e.code}: ${e.message}</li>`,
                        )}
                      </ul>`}
                </dd>
              </dl>
              ${trackTable(d.tracks, 'feedback-tracks')}`
          : html`<p role="status">Reading the connection's statistics…</p>`}
      </details>
      <p part="feedback-error" role="alert">${view.error ?? ''}</p>
      <div class="actions">
        <button type="button" @click=${() => view.cancel()}>Cancel</button>
        <button class="primary" type="submit" ?disabled=${!d || view.sending}>Send</button>
      </div>
    </form>
  </dialog>`;
}

/** What a person is told when feedback was not taken. */
export function feedbackErrorMessage(error: unknown): string {
  if (!(error instanceof FeedbackError)) return 'Could not send: please try again.';
  switch (error.code) {
    case 'too-large':
      return 'This is too long to send: please shorten it.';
    case 'feedback-rate-limited':
      return `Too many reports for now: try again in ${Math.ceil((error.retryAfterMs ?? 60_000) / 1_000)} s.`;
    case 'network':
      return 'Cannot reach the meeting server: check your connection and try again.';
    default:
      return error.message;
  }
}
