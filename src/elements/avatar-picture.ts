/**
 * Someone's picture in their avatar (a tile, the people list). Its own module,
 * not `avatar.ts`: the lobby shows only your initial, and everything here
 * loads with the meeting's chunk (`npm run bench -- --suites bundle`).
 */
import { css, html, nothing } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { initial } from './avatar.js';

/**
 * An avatar's content: the initial, and over it their picture when they have
 * one. A picture that fails to load hides itself (`error`) and the initial
 * shows again; keyed by its URL, so a new picture gets a new `<img>` rather
 * than the hidden one. `alt=""`: the name is always written beside it. No
 * referrer: the picture's host need not learn which page someone is on.
 */
export function avatarContent(name: string, picture: string | undefined, part: string) {
  return html`${initial(name)}${picture
    ? keyed(
        picture,
        html`<img
          part=${part}
          src=${picture}
          alt=""
          referrerpolicy="no-referrer"
          loading="lazy"
          @error=${hidePicture}
        />`,
      )
    : nothing}`;
}

const hidePicture = (event: Event) => ((event.target as HTMLImageElement).hidden = true);

/**
 * The picture covers the round initial exactly (with `avatarStyles`).
 */
export const avatarPictureStyles = css`
  .avatar {
    position: relative;
    overflow: hidden;
  }
  .avatar img {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: cover;
    /* A transparent picture shows the avatar's colour, not the initial under it. */
    background: inherit;
  }
  .avatar img[hidden] {
    display: none;
  }
`;
