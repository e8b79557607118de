import { css } from 'lit';

export const meetParticipantGridStyles = css`
  :host {
    /* The tile area stretches over the content box, which is what gets measured. */
    display: grid;
    box-sizing: border-box;
    min-height: 240px;
  }
  .tiles {
    position: relative;
    min-width: 0;
    min-height: 0;
    overflow: hidden;
  }
  [part~='tile'] {
    position: absolute;
  }
  [part='pin'],
  [part='more'] {
    font: inherit;
    color: inherit;
    cursor: pointer;
    border: 1px solid var(--_border);
    background: color-mix(in srgb, var(--_background) 80%, transparent);
  }
  [part='pin'] {
    display: inline-grid;
    place-items: center;
    padding: calc(var(--_space) / 2);
    border-radius: 50%;
  }
  [part='pin'][aria-pressed='true'] {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_accent-text);
  }
  .more {
    position: absolute;
  }
  [part='more'] {
    width: 100%;
    height: 100%;
    border-radius: var(--meet-tile-radius, var(--_radius));
    background: var(--_surface);
    font-size: 1.5em;
    font-weight: 600;
  }
  :focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  svg {
    width: 1.1em;
    height: 1.1em;
    fill: none;
    stroke: currentColor;
    stroke-width: 2;
    stroke-linecap: round;
    stroke-linejoin: round;
  }
`;
