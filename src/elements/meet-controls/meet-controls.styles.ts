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
  /* The options open above the toolbar, next to More. */
  :host {
    position: relative;
  }
  [part='options'] {
    position: absolute;
    bottom: calc(100% + var(--_space));
    inset-inline-end: 0;
    display: grid;
    gap: var(--_space);
    padding: var(--_space);
    border-radius: var(--_radius);
    background: var(--_surface);
    color: var(--_text);
    box-shadow: 0 4px 16px rgb(0 0 0 / 0.25);
    z-index: 1;
  }
  [part='options'][hidden] {
    display: none;
  }
  [part='option'] {
    display: flex;
    align-items: flex-start;
    gap: var(--_space);
    cursor: pointer;
  }
  [part='option'] small {
    display: block;
    color: var(--_text-muted);
  }
  /* The hint is placed above the microphone button, over whatever is there (the grid). */
  .microphone {
    position: relative;
    display: inline-flex;
  }
  [part='muted-hint'] {
    position: absolute;
    z-index: 1;
    inset-inline-start: 0;
    bottom: calc(100% + var(--_space));
    width: max-content;
    max-width: min(18em, 80vw);
    padding: var(--_space) calc(var(--_space) * 1.5);
    border-radius: calc(var(--_radius) / 1.5);
    background: var(--_text);
    color: var(--_background);
    box-shadow: 0 2px 8px rgb(0 0 0 / 0.3);
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
