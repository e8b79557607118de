/**
 * Keyboard shortcuts of the Meetkit elements: Ctrl (⌘ on Apple devices)
 * plus, optionally, Alt, plus a letter; never while the user types in a field.
 */

export interface Shortcut {
  key: string;
  alt: boolean;
}

const apple = /Mac|iPhone|iPad|iPod/.test(navigator.userAgent);

/** For `aria-keyshortcuts`: both modifiers work everywhere. */
export const ariaShortcut = ({ key, alt }: Shortcut): string =>
  ['Control', 'Meta'].map((mod) => [mod, ...(alt ? ['Alt'] : []), key.toUpperCase()].join('+')).join(' ');

/** For a tooltip, as this platform writes it. */
export const shownShortcut = ({ key, alt }: Shortcut): string =>
  apple ? `${alt ? '⌥' : ''}⌘${key.toUpperCase()}` : `Ctrl+${alt ? 'Alt+' : ''}${key.toUpperCase()}`;

export function matchesShortcut(event: KeyboardEvent, { key, alt }: Shortcut): boolean {
  if (!(event.ctrlKey || event.metaKey) || event.altKey !== alt || event.shiftKey) return false;
  return isShortcutKey(event, { key, alt });
}

/** The shortcut's letter, whatever the modifiers (a key up may come after they are let go). */
export function isShortcutKey(event: KeyboardEvent, { key, alt }: Shortcut): boolean {
  // With Alt, a Mac types another character (⌥S is ß): go by the physical key then.
  return event.key.toLowerCase() === key || (alt && event.code === `Key${key.toUpperCase()}`);
}

/** Typing in a field must never trigger a shortcut. */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.composedPath()[0];
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}
