import { css } from 'lit';

/** The lobby's self view (`lobby-preview.ts`): looks like a tile, mirrored. */
export const lobbyPreviewStyles = css`
  .preview {
    position: relative;
    display: grid;
    place-items: center;
    aspect-ratio: 16 / 9;
    width: 100%;
    overflow: hidden;
    border-radius: var(--meet-tile-radius, var(--_radius));
    background: var(--_surface);
    container-type: size;
  }
  .preview video {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: cover;
    transform: scaleX(-1);
  }
  .preview-name {
    position: absolute;
    inset-inline-start: calc(var(--_space) * 0.75);
    inset-block-end: calc(var(--_space) * 0.75);
    padding: calc(var(--_space) / 4) calc(var(--_space) * 0.75);
    border-radius: calc(var(--_radius) / 1.5);
    background: color-mix(in srgb, var(--_background) 80%, transparent);
    font-size: 0.875em;
  }
`;
