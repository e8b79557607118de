import { LitElement } from 'lit';
import { property } from 'lit/decorators.js';
import type { ElementLoader } from '../define.js';
import type { Theme } from './theme-context.js';
import { ThemeController } from './theme-controller.js';

/**
 * What every Meetkit element has: a `theme` that reaches the elements
 * inside it, and the elements it renders, for `defineElement`.
 */
export class MeetElement extends LitElement {
  /** The elements this one renders; `defineElement` registers them with it, so one module works alone. */
  static dependencies: Readonly<Record<string, CustomElementConstructor>> = {};
  /** Elements it renders only later, loaded after it is registered (their modules are split off). */
  static lazyDependencies: Readonly<Record<string, ElementLoader>> = {};

  /**
   * `light` or `dark`. Unset: the theme of the Meetkit element around it
   * (`<meet-room>`), else the page's `prefers-color-scheme`.
   */
  @property({ reflect: true }) theme: Theme | undefined;

  private readonly themeController = new ThemeController(this);
}
