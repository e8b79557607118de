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
`;
