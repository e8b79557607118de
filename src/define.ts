/**
 * Registers a custom element unless the tag is taken. Loading Meetkit twice
 * (two script tags, a bundler plus a CDN copy) must never throw: the first
 * registration wins and a different class gets a warning.
 */
export function defineElement(tag: string, element: CustomElementConstructor): void {
  const existing = customElements.get(tag);
  if (existing === element) return;
  if (existing) {
    console.warn(`Meetkit: <${tag}> is already defined by another copy of Meetkit; keeping the first one.`);
    return;
  }
  customElements.define(tag, element);
}
