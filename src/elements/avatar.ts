import { css } from 'lit';

/** Made once: making one costs more than the rest of a tile's render. */
let segmenter: Intl.Segmenter | undefined;

/** The first character a reader would see (a whole emoji or accented letter), upper-cased: an avatar's letter. */
export function initial(name: string): string {
  const first =
    typeof Intl.Segmenter === 'function'
      ? (segmenter ??= new Intl.Segmenter()).segment(name)[Symbol.iterator]().next().value?.segment
      : [...name][0];
  return (first ?? '').toUpperCase();
}

/**
 * The round initial shown for someone whose camera is off, in a tile and in
 * the lobby's preview; scales with its container. Their picture over it is in
 * `avatar-picture.ts`, which loads with the meeting, not the lobby.
 */
export const avatarStyles = css`
  .avatar {
    display: grid;
    place-items: center;
    width: clamp(2.5rem, 40cqmin, 8rem);
    aspect-ratio: 1;
    border-radius: 50%;
    background: var(--_accent);
    color: var(--_accent-text);
    font-size: clamp(1.25rem, 18cqmin, 3.5rem);
    font-weight: 600;
    user-select: none;
  }
`;
