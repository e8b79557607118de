import { css } from 'lit';

export const meetParticipantTileStyles = css`
  :host {
    display: block;
    position: relative;
    box-sizing: border-box;
    overflow: hidden;
    min-width: 0;
    min-height: 0;
    border-radius: var(--meet-tile-radius, var(--_radius));
    background: var(--_surface);
    /* Lets the avatar and labels scale with the tile. */
    container-type: size;
  }
  :host([hand-raised]) {
    outline: 3px solid var(--_accent);
    outline-offset: -3px;
  }
  .tile {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
  }
  video {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: cover;
    background: var(--_surface);
  }
  /* Transparent, not display: none, so it keeps loading and playing until it has a frame to show. */
  video:not(.shown) {
    opacity: 0;
  }
  :host([local]:not([screen-share])) video {
    transform: scaleX(-1);
  }
  :host([screen-share]) video {
    object-fit: contain;
  }
  audio {
    display: none;
  }
  [part='avatar'] .sparkle {
    width: 55%;
    height: 55%;
    fill: currentColor;
  }
  .caption {
    position: absolute;
    inset-inline-start: calc(var(--_space) * 0.75);
    inset-block-end: calc(var(--_space) * 0.75);
    max-width: calc(100% - var(--_space) * 1.5);
    display: flex;
    align-items: center;
    gap: calc(var(--_space) / 2);
    padding: calc(var(--_space) / 4) calc(var(--_space) * 0.75);
    border-radius: calc(var(--_radius) / 1.5);
    background: color-mix(in srgb, var(--_background) 80%, transparent);
    font-size: 0.875em;
  }
  [part='name'] {
    overflow: hidden;
    white-space: nowrap;
    text-overflow: ellipsis;
  }
  [part='host-badge'] {
    flex: none;
    font-size: 0.8em;
    padding: 0 calc(var(--_space) * 0.75);
    border-radius: 999px;
    background: var(--_accent);
    color: var(--_accent-text);
  }
  [part='ai-state'] {
    flex: none;
    font-size: 0.8em;
    color: var(--_text-muted);
  }
  /* Speaking: a thick ring (a raised hand has a thin one) and an icon in the label. */
  :host([speaking]:not([screen-share])) {
    outline: 4px solid var(--_accent);
    outline-offset: -4px;
  }
  [part='speaking-indicator'] {
    color: var(--_accent);
  }
  /* Signal bars: the filled ones in the text colour, the rest faint; red when poor or lost. */
  [part='quality-indicator'] rect {
    fill: currentColor;
    stroke: none;
  }
  [part='quality-indicator'] rect.off {
    opacity: 0.3;
  }
  :host([quality='poor']) [part='quality-indicator'],
  :host([quality='lost']) [part='quality-indicator'] {
    color: var(--_danger);
  }
  [part='ai-caption'] {
    position: absolute;
    inset-inline: calc(var(--_space) * 0.75);
    inset-block-start: calc(var(--_space) * 0.75);
    max-height: 45%;
    overflow: hidden;
    margin: 0;
    padding: calc(var(--_space) / 2) var(--_space);
    border-radius: calc(var(--_radius) / 1.5);
    background: color-mix(in srgb, var(--_background) 85%, transparent);
    font-size: 0.875em;
    /* The latest words stay in sight: the text grows upwards out of view. */
    display: flex;
    flex-direction: column-reverse;
  }
  .actions {
    position: absolute;
    inset-inline-start: calc(var(--_space) * 0.75);
    inset-block-start: calc(var(--_space) * 0.75);
    display: flex;
    gap: calc(var(--_space) / 2);
  }
  .badge {
    display: inline-grid;
    place-items: center;
    flex: none;
  }
  [part='muted-indicator'] {
    color: var(--_danger);
  }
  [part='hand'] {
    position: absolute;
    inset-inline-end: calc(var(--_space) * 0.75);
    inset-block-start: calc(var(--_space) * 0.75);
    padding: calc(var(--_space) / 2);
    border-radius: 50%;
    background: var(--_accent);
    color: var(--_accent-text);
  }
  svg {
    width: 1.25em;
    height: 1.25em;
    fill: none;
    stroke: currentColor;
    stroke-width: 2;
    stroke-linecap: round;
    stroke-linejoin: round;
  }
`;
