import { createContext } from '@lit/context';

export const themes = ['light', 'dark'] as const;
export type Theme = (typeof themes)[number];

/**
 * The theme a Meetkit element passes to the elements inside it (rendered by
 * it or slotted into it); undefined while the page's `prefers-color-scheme`
 * decides.
 */
export const themeContext = createContext<Theme | undefined>(Symbol('meet-theme'));

/** A `theme` attribute's value as a theme; anything else (unset, a typo) is none. */
export const parseTheme = (value: string | null | undefined): Theme | undefined =>
  themes.find((theme) => theme === value);
