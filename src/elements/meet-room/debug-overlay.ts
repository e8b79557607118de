import { html, nothing } from 'lit';
import type { Diagnostics, TrackDiagnostics } from '../../protocol/feedback.js';
import type { Shortcut } from '../shortcuts.js';

/** Opens and closes the debug overlay: Ctrl+Alt+G (⌥⌘G on a Mac). Not D: ⌥⌘D hides the Dock on a Mac. */
export const DEBUG_SHORTCUT: Shortcut = { key: 'g', alt: true };

/** What the debug overlay shows, and what it may do. */
export interface DebugOverlayView {
  /** Null until the first reading. */
  diagnostics: Diagnostics | null;
  /** What the Copy button did last: `copied`, `failed`, or nothing yet. */
  copied: 'copied' | 'failed' | null;
  copy(): void;
  close(): void;
}

/**
 * The debug overlay: the meeting and Calls session ids, the connections,
 * and each track's numbers, refreshed while it is open, with a Copy button
 * for "it doesn't work" reports. A non-modal dialog: the meeting stays
 * usable beside it; Escape closes it.
 */
export function renderDebugOverlay(view: DebugOverlayView) {
  const d = view.diagnostics;
  return html`<div
    part="debug"
    role="dialog"
    aria-labelledby="debug-title"
    @keydown=${(event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      view.close();
    }}
  >
    <h2 id="debug-title">Diagnostics</h2>
    <dl part="debug-ids">
      <dt>Meeting</dt>
      <dd>${d?.meetingId ?? '–'}</dd>
      <dt>Calls session</dt>
      <dd>${d?.callsSessionId ?? '–'}</dd>
      <dt>Connections</dt>
      <dd>${d ? `room ${d.room}, media ${d.media}` : '–'}</dd>
    </dl>
    ${trackTable(d?.tracks ?? [], 'debug-tracks')}
    <div class="actions">
      <button type="button" part="debug-copy" ?disabled=${!d} @click=${() => view.copy()}>Copy</button>
      <span role="status" part="debug-copied"
        >${view.copied === 'copied'
          ? 'Copied'
          : view.copied === 'failed'
            ? 'Cannot copy here: select the text instead'
            : ''}</span
      >
      <button type="button" part="debug-close" @click=${() => view.close()}>Close</button>
    </div>
  </div>`;
}

/** Each track's numbers, ours first; shared with the problem report, which shows what it sends. */
export function trackTable(tracks: readonly TrackDiagnostics[], part: string) {
  if (tracks.length === 0) return html`<p part=${part} class="muted">No audio or video connection.</p>`;
  return html`<table part=${part}>
    <caption>
      Tracks
    </caption>
    <thead>
      <tr>
        <th scope="col">Mid</th>
        <th scope="col">Track</th>
        <th scope="col">Resolution</th>
        <th scope="col">Bitrate</th>
        <th scope="col">Loss</th>
        <th scope="col">RTT</th>
      </tr>
    </thead>
    <tbody>
      ${tracks.map(
        (t) =>
          html`<tr data-mid=${t.mid ?? nothing}>
            <td>${t.mid ?? '–'}</td>
            <td>${t.direction === 'outbound' ? '↑' : '↓'} ${t.kind} ${t.source ?? ''}</td>
            <td>${t.width !== undefined && t.height !== undefined ? `${t.width}×${t.height}` : '–'}</td>
            <td>${t.bitrateKbps !== undefined ? `${t.bitrateKbps} kbit/s` : '–'}</td>
            <td>${t.packetLoss !== undefined ? `${(t.packetLoss * 100).toFixed(1)} %` : '–'}</td>
            <td>${t.roundTripMs !== undefined ? `${t.roundTripMs} ms` : '–'}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
