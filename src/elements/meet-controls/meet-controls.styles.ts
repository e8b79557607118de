import { css } from 'lit';

export const meetControlsStyles = css`
  :host {
    display: block;
  }
  [part='toolbar'] {
    display: flex;
    flex-wrap: wrap;
    justify-content: center;
    gap: var(--_space);
  }
  button {
    display: inline-flex;
    align-items: center;
    gap: calc(var(--_space) * 0.75);
  }
  /* An off microphone or camera is worth noticing. */
  [part~='microphone'][aria-pressed='false'],
  [part~='camera'][aria-pressed='false'] {
    color: var(--_danger);
  }
  [part~='leave'] {
    margin-inline-start: calc(var(--_space) * 2);
  }
  svg {
    width: 1.25em;
    height: 1.25em;
    flex: none;
    fill: none;
    stroke: currentColor;
    stroke-width: 2;
    stroke-linecap: round;
    stroke-linejoin: round;
  }
`;
