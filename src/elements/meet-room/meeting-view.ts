import { html, nothing } from 'lit';
import type { Meeting } from '../../client/meeting.js';
import type { Participant } from '../../protocol/index.js';
import { avatarContent } from '../avatar-picture.js';

export { meetingViewStyles } from './meeting-view.styles.js';
export { moderationNotice, PoorConnectionNotice } from './meeting-notices.js';
// What the room does for feedback and bug reports comes with it: the lobby does without that too.
export { RoomFeedback, roomFeedbackStyles } from './room-feedback.js';

/**
 * `<meet-room>`'s default meeting layout, which the lobby does without: the
 * grid, the people list with a host's actions, the controls. A module of its
 * own so that it loads with the meeting's elements, after the lobby
 * (`npm run bench -- --suites bundle`); the room renders it in its own
 * shadow root, so its parts are the room's.
 */
export interface MeetingView {
  self: Participant;
  participants: readonly Participant[];
  speaking: ReadonlySet<string>;
  pinned: string | null;
  maxTiles: number;
  aiAvailable: boolean;
  meeting: Meeting | undefined;
  /** The participant whose host actions are open, or who is about to be removed. */
  actionsFor: { id: string; confirmingRemoval: boolean } | null;
  setActionsFor(actions: { id: string; confirmingRemoval: boolean } | null): void;
  /** Asks the host whether to remove someone, and focuses the answer. */
  askToRemove(id: string): void;
  /** Takes the visitor to the people list (the grid's "+N"). */
  showPeople(): void;
}

export function renderMeetingView(view: MeetingView) {
  const { self, participants, speaking, pinned } = view;
  const isHost = self.role === 'host';
  return html`
    <div class="stage">
      <meet-participant-grid
        part="grid"
        max-tiles=${view.maxTiles}
        @meet-show-participants=${() => view.showPeople()}
      ></meet-participant-grid>
      <section part="people" aria-labelledby="participants-title">
        <h2 id="participants-title" tabindex="-1">In the meeting (${participants.length})</h2>
        <ul part="participants">
          ${participants.map((p) => {
            const you = p.id === self.id;
            return html`<li
              part=${you ? 'participant self' : 'participant'}
              ?data-hand-raised=${p.handRaised}
              ?data-reconnecting=${!!p.reconnecting}
              ?data-speaking=${speaking.has(p.id)}
            >
              <span class="avatar" aria-hidden="true"
                >${avatarContent(p.name, p.picture, 'participant-picture')}</span
              >
              <span class="name">${p.name}${you ? ' (you)' : ''}</span>
              ${speaking.has(p.id) ? html`<span class="badge speaking">Speaking</span>` : nothing}
              ${p.reconnecting ? html`<span class="badge reconnecting">Reconnecting…</span>` : nothing}
              ${p.role === 'host' ? html`<span class="badge host">Host</span>` : nothing}
              ${p.role === 'agent' ? html`<span class="badge agent">AI</span>` : nothing}
              ${p.handRaised ? html`<span class="badge hand">Hand raised</span>` : nothing}
              ${p.microphone ? nothing : html`<span class="badge muted">Muted</span>`}
              <button
                type="button"
                aria-pressed=${p.id === pinned ? 'true' : 'false'}
                aria-label=${`Pin ${you ? 'yourself' : p.name}`}
                @click=${() => (p.id === pinned ? view.meeting?.unpin() : view.meeting?.pin(p.id))}
              >
                Pin
              </button>
              ${isHost && !you && p.role !== 'agent' ? hostActions(view, p) : nothing}
            </li>`;
          })}
        </ul>
      </section>
    </div>
    <div class="bar">
      <meet-controls part="controls"></meet-controls>
      ${view.aiAvailable ? html`<meet-ai-toggle part="ai"></meet-ai-toggle>` : nothing}
      ${isHost
        ? html`<div part="host-controls">
            <button type="button" class="end danger" @click=${() => view.meeting?.endMeeting()}>
              End meeting for all
            </button>
          </div>`
        : nothing}
    </div>
  `;
}

/**
 * Mute, then a menu under More, each action saying whom it is for; Remove
 * asks first, in place of the menu.
 */
function hostActions(view: MeetingView, p: Participant) {
  const meeting = view.meeting;
  const open = view.actionsFor?.id === p.id ? view.actionsFor : null;
  const present = !p.reconnecting;
  if (open?.confirmingRemoval)
    return html`<div part="host-actions" class="confirm" role="group" aria-label=${`Remove ${p.name}?`}>
      <span>Remove ${p.name} from the meeting?</span>
      <button
        type="button"
        class="danger"
        @click=${() => {
          view.setActionsFor(null);
          meeting?.removeParticipant(p.id);
        }}
      >
        Remove
      </button>
      <button type="button" @click=${() => view.setActionsFor(null)}>Cancel</button>
    </div>`;
  return html`<button
      type="button"
      ?disabled=${!p.microphone || !present}
      aria-label=${`Mute ${p.name}`}
      @click=${() => meeting?.muteParticipant(p.id)}
    >
      Mute
    </button>
    <button
      type="button"
      aria-expanded=${open ? 'true' : 'false'}
      aria-label=${`More for ${p.name}`}
      @click=${() => view.setActionsFor(open ? null : { id: p.id, confirmingRemoval: false })}
    >
      More
    </button>
    ${open
      ? html`<div part="host-actions" class="menu">
          ${hostAction(`Turn off ${p.name}'s camera`, p.camera && present, () =>
            meeting?.turnCameraOff(p.id),
          )}
          ${hostAction(`Lower ${p.name}'s hand`, p.handRaised, () => meeting?.lowerHand(p.id))}
          ${hostAction(`Make ${p.name} a host`, p.role !== 'host', () => meeting?.makeHost(p.id))}
          ${hostAction(`Remove ${p.name}`, true, () => view.askToRemove(p.id))}
        </div>`
      : nothing}`;
}

/** One of a host's actions on someone, in the menu under their name ("Lower Bob's hand"). */
function hostAction(label: string, enabled: boolean, act: () => void) {
  return html`<button type="button" ?disabled=${!enabled} @click=${act}>${label}</button>`;
}
