import { css } from 'lit';

export const meetRoomStyles = css`
  :host {
    display: block;
    box-sizing: border-box;
    min-height: var(--meet-room-min-height, 320px);
    padding: calc(var(--_space) * 2);
    border-radius: var(--meet-room-radius, var(--_radius));
    background: var(--_background);
  }
  h2 {
    margin: 0 0 var(--_space);
    font-size: 1.25em;
  }
  p {
    margin: 0 0 var(--_space);
  }
  .muted {
    color: var(--_text-muted);
  }
  [part='status'] {
    margin-bottom: var(--_space);
    padding: calc(var(--_space) * 0.75) var(--_space);
    border-radius: calc(var(--_radius) / 1.5);
    background: var(--_surface);
    color: var(--_text-muted);
  }
  [part='error'] {
    padding: calc(var(--_space) * 1.5);
    border: 1px solid var(--_danger);
    border-radius: var(--_radius);
    color: var(--_text);
  }
  [part='error'] strong {
    color: var(--_danger);
  }
  form {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space);
    align-items: end;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: calc(var(--_space) / 2);
    flex: 1 1 14em;
  }
  [hidden] {
    display: none !important;
  }
  [part='notice'],
  [part='media-error'] {
    display: flex;
    gap: var(--_space);
    align-items: center;
    justify-content: space-between;
    margin-bottom: var(--_space);
    padding: var(--_space) calc(var(--_space) * 1.5);
    border: 1px solid var(--_danger);
    border-radius: calc(var(--_radius) / 1.5);
  }
  [part='notice'] {
    border-color: var(--_accent);
  }
  .lobby-layout {
    display: grid;
    gap: calc(var(--_space) * 2);
    grid-template-columns: repeat(auto-fit, minmax(16em, 1fr));
    align-items: start;
  }
  .lobby-side {
    display: flex;
    flex-direction: column;
    gap: calc(var(--_space) * 1.5);
  }
  .toggles {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space);
  }
  .meeting {
    display: flex;
    flex-direction: column;
    gap: var(--_space);
  }
`;
