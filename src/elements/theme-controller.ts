import { ContextConsumer, ContextProvider } from '@lit/context';
import type { ReactiveController, ReactiveElement } from 'lit';
import { parseTheme, themeContext, themes, type Theme } from './theme-context.js';

/** A Meetkit element with a `theme` attribute. */
export interface ThemedElement extends ReactiveElement {
  theme: Theme | undefined;
}

/**
 * Decides an element's theme: its own `theme` attribute, else the theme of
 * the nearest Meetkit element around it (through context, so what a page
 * slots into `<meet-room>` follows the room too), else none, and the page's
 * `prefers-color-scheme` decides in CSS. Shows it as the custom state
 * `:state(light)` or `:state(dark)` (what `themeStyles` selects on) and
 * passes it on to the elements inside.
 */
export class ThemeController implements ReactiveController {
  readonly #host: ThemedElement;
  readonly #states: CustomStateSet;
  readonly #provider: ContextProvider<typeof themeContext, ThemedElement>;
  #inherited: Theme | undefined;

  constructor(host: ThemedElement) {
    this.#host = host;
    this.#states = host.attachInternals().states;
    new ContextConsumer(host, {
      context: themeContext,
      subscribe: true,
      callback: (theme) => (this.#inherited = theme),
    });
    this.#provider = new ContextProvider(host, { context: themeContext });
    host.addController(this);
  }

  /** The theme in effect; undefined while the page's preference decides. */
  get theme(): Theme | undefined {
    return parseTheme(this.#host.theme) ?? this.#inherited;
  }

  hostDisconnected(): void {
    // Taken out of a room, it follows whatever it is put into next (or the page).
    if (this.#inherited === undefined) return;
    this.#inherited = undefined;
    this.#host.requestUpdate();
  }

  hostUpdate(): void {
    const theme = this.theme;
    this.#provider.setValue(theme);
    for (const name of themes) {
      if (name === theme) this.#states.add(name);
      else this.#states.delete(name);
    }
  }
}
