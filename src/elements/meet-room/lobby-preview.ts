import { html } from 'lit';
import { initial } from '../avatar.js';

export { lobbyPreviewStyles } from './lobby-preview.styles.js';

/**
 * The lobby's self view: the camera, mirrored as in a mirror, or the
 * initial of the name while it is off. Not a `<meet-participant-tile>`: the
 * lobby needs none of a tile's meeting states (speaking, quality, pins,
 * hands, remote audio), and leaving the tile to the meeting's chunk makes
 * the lobby come sooner (`npm run bench -- --suites bundle`).
 */
export function lobbyPreview(name: string, camera: MediaStream | null) {
  return html`<div
    part="preview"
    class="preview"
    role="group"
    aria-label=${`${name} (you)`}
    ?camera-off=${!camera}
  >
    ${camera
      ? html`<video autoplay playsinline muted .srcObject=${camera}></video>`
      : html`<span class="avatar" aria-hidden="true">${initial(name)}</span>`}
    <span class="preview-name">${name} (you)</span>
  </div>`;
}
