import { css } from 'lit';

export const meetAiToggleStyles = css`
  :host {
    display: block;
  }
  [part='panel'] {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: var(--_space);
  }
  [part='state'],
  [part='talker'] {
    color: var(--_text-muted);
  }
  [part~='talk'] {
    /* Held, not clicked: no text selection or touch callout while holding. */
    user-select: none;
    -webkit-user-select: none;
    touch-action: none;
  }
  [part='error'] {
    color: var(--_danger);
    flex-basis: 100%;
  }
  [part='caption'] {
    flex-basis: 100%;
    margin: 0;
    max-height: 6em;
    overflow-y: auto;
  }
`;
