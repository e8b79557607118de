import { css } from 'lit';

export const meetDevicePickerStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    gap: calc(var(--_space) * 1.5);
    box-sizing: border-box;
  }
  [part='preview'] {
    display: block;
    width: 100%;
    aspect-ratio: 4 / 3;
    object-fit: cover;
    border-radius: var(--_radius);
    background: var(--_surface);
    /* A mirror: moving left moves left, as people expect of their own image. */
    transform: scaleX(-1);
  }
  [part='error'] {
    padding: var(--_space) calc(var(--_space) * 1.5);
    border: 1px solid var(--_danger);
    border-radius: var(--_radius);
  }
  [part='error'][hidden] {
    display: none;
  }
  [part='error'] p {
    margin: 0;
  }
  [part='error'] p + p {
    margin-top: calc(var(--_space) / 2);
  }
  .fields {
    display: grid;
    gap: var(--_space) calc(var(--_space) * 2);
    grid-template-columns: repeat(auto-fill, minmax(14em, 1fr));
    align-items: start;
  }
  .microphone {
    display: flex;
    flex-direction: column;
    gap: calc(var(--_space) / 2);
  }
  [part='field'] {
    display: flex;
    flex-direction: column;
    gap: calc(var(--_space) / 2);
    min-width: 0;
  }
  [part='select'] {
    font: inherit;
    color: inherit;
    min-height: 2.5em;
    padding: calc(var(--_space) * 0.5) calc(var(--_space) * 0.75);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 1.5);
    background: var(--_background);
    text-overflow: ellipsis;
  }
  [part='level'] {
    width: 100%;
    height: 0.5em;
    accent-color: var(--_accent);
  }
  @media (prefers-reduced-motion: no-preference) {
    [part='preview'] {
      transition: opacity 0.2s;
    }
  }
  [part='preview'][data-off] {
    opacity: 0.6;
  }
`;
