import { css } from 'lit';

/**
 * Every global `--meet-*` custom property, with what it styles. A test fails
 * when an element uses one that is not listed here, so this list (and the
 * README table made from it) stays true.
 */
export const documentedTokens: Record<string, string> = {
  '--meet-color-background': 'Background of the widget',
  '--meet-color-surface': 'Cards, list rows and inputs',
  '--meet-color-text': 'Main text',
  '--meet-color-text-muted': 'Secondary text',
  '--meet-color-border': 'Borders and dividers',
  '--meet-color-accent': 'Primary buttons and highlights',
  '--meet-color-accent-text': 'Text on the accent colour',
  '--meet-color-danger': 'Leave / end buttons and errors',
  '--meet-color-danger-text': 'Text on the danger colour',
  '--meet-color-focus': 'Focus ring',
  '--meet-font-family': 'Font of the widget',
  '--meet-font-size': 'Base font size',
  '--meet-radius': 'Corner radius of cards and buttons',
  '--meet-spacing': 'Base spacing unit',
  '--meet-room-radius': 'Corner radius of <meet-room> itself (falls back to --meet-radius)',
  '--meet-room-min-height': 'Minimum height of <meet-room>',
  '--meet-tile-radius': 'Corner radius of participant tiles (falls back to --meet-radius)',
  '--meet-room-grid-min-height': 'Minimum height of the video grid in <meet-room>',
};

/** The dark scheme's defaults; a host value for a token still wins. */
const darkValues = css`
  --_background: var(--meet-color-background, #111318);
  --_surface: var(--meet-color-surface, #1f232b);
  --_text: var(--meet-color-text, #f3f4f6);
  --_text-muted: var(--meet-color-text-muted, #aab1bd);
  --_border: var(--meet-color-border, #374151);
  --_accent: var(--meet-color-accent, #fb923c);
  --_accent-text: var(--meet-color-accent-text, #111318);
  --_danger: var(--meet-color-danger, #f87171);
  --_danger-text: var(--meet-color-danger-text, #111318);
  --_focus: var(--meet-color-focus, #93c5fd);
  color-scheme: dark;
`;

/**
 * Resolved theme as private properties (`--_x`), light by default, dark when
 * the element's theme is dark (`:state(dark)`, set by `ThemeController` from
 * its own `theme` attribute or the room around it) or, with no theme set, the
 * page prefers dark. A host value for a `--meet-*` token wins in both schemes.
 * Also the text every element starts from, and `hidden` that hides (a
 * `display` of its own would win).
 */
export const themeStyles = css`
  :host {
    --_background: var(--meet-color-background, #ffffff);
    --_surface: var(--meet-color-surface, #f3f4f6);
    --_text: var(--meet-color-text, #111827);
    --_text-muted: var(--meet-color-text-muted, #4b5563);
    --_border: var(--meet-color-border, #d1d5db);
    --_accent: var(--meet-color-accent, #c2410c);
    --_accent-text: var(--meet-color-accent-text, #ffffff);
    --_danger: var(--meet-color-danger, #b91c1c);
    --_danger-text: var(--meet-color-danger-text, #ffffff);
    --_focus: var(--meet-color-focus, #2563eb);
    --_font-family: var(--meet-font-family, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --_font-size: var(--meet-font-size, 1rem);
    --_radius: var(--meet-radius, 12px);
    --_space: var(--meet-spacing, 8px);
    color-scheme: light;
    color: var(--_text);
    font-family: var(--_font-family);
    font-size: var(--_font-size);
    line-height: 1.4;
  }
  :host([hidden]) {
    display: none;
  }
  @media (prefers-color-scheme: dark) {
    :host(:not(:state(light))) {
      ${darkValues}
    }
  }
  :host(:state(dark)) {
    ${darkValues}
  }
`;

/** Buttons and inputs shared by every element. */
export const controlStyles = css`
  button,
  input {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 1.5);
    background: var(--_surface);
    padding: calc(var(--_space) * 0.75) calc(var(--_space) * 1.5);
    min-height: 2.5em;
  }
  button.primary {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_accent-text);
    font-weight: 600;
  }
  button.danger {
    background: var(--_danger);
    border-color: var(--_danger);
    color: var(--_danger-text);
  }
  button[aria-pressed='true'] {
    outline: 2px solid var(--_accent);
    outline-offset: -2px;
  }
  button:disabled {
    cursor: not-allowed;
    opacity: 0.6;
  }
  input {
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 1.5);
    background: var(--_background);
    padding: calc(var(--_space) * 0.75);
    min-height: 2.5em;
    box-sizing: border-box;
  }
  :focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
`;
