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
  ul {
    list-style: none;
    margin: 0 0 calc(var(--_space) * 2);
    padding: 0;
    display: grid;
    gap: var(--_space);
    grid-template-columns: repeat(auto-fill, minmax(14em, 1fr));
  }
  [part~='participant'] {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: var(--_space);
    padding: var(--_space) calc(var(--_space) * 1.5);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    min-height: 3em;
  }
  [part~='participant'][data-hand-raised] {
    border-color: var(--_accent);
  }
  .name {
    flex: 1;
    overflow-wrap: anywhere;
  }
  .badge {
    font-size: 0.8em;
    padding: 0 calc(var(--_space) * 0.75);
    border-radius: 999px;
    border: 1px solid var(--_border);
  }
  .badge.host {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_accent-text);
  }
  .badge.speaking {
    border-color: var(--_accent);
    border-width: 2px;
  }
  .badge.reconnecting {
    border-style: dashed;
    color: var(--_text-muted);
  }
  [data-reconnecting] .name {
    color: var(--_text-muted);
  }
  [hidden] {
    display: none !important;
  }
  [part='host-actions'] {
    flex-basis: 100%;
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: calc(var(--_space) / 2);
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
  [part='preview'] {
    aspect-ratio: 16 / 9;
    width: 100%;
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
  .stage {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space);
  }
  [part='grid'] {
    flex: 3 1 24em;
    min-height: var(--meet-room-grid-min-height, 360px);
  }
  [part='people'] {
    flex: 1 1 14em;
  }
  [part='people'] ul {
    grid-template-columns: 1fr;
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space);
    align-items: center;
    justify-content: space-between;
  }
`;
