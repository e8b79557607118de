import { css } from 'lit';

export const meetParticipantGridStyles = css`
  :host {
    /* The tile area stretches over the content box, which is what gets measured. */
    display: grid;
    box-sizing: border-box;
    min-height: 240px;
    color: var(--_text);
    font-family: var(--_font-family);
    font-size: var(--_font-size);
  }
  :host([hidden]) {
    display: none;
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
`;
