import { css } from 'lit';
import { avatarPictureStyles } from '../avatar-picture.js';

/** The meeting layout's styles (`meeting-view.ts`), adopted by the room when that module arrives. */
export const meetingViewStyles = css`
  ${avatarPictureStyles}
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
  /* The room's avatar scales with a tile; in the list it is the size of a line. */
  [part~='participant'] .avatar {
    flex: none;
    width: 2em;
    font-size: 0.875em;
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
  [part='host-actions'] {
    flex-basis: 100%;
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: calc(var(--_space) / 2);
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
