/** An element class, with the elements it renders (as Shoelace's `static dependencies`). */
type ElementWithDependencies = CustomElementConstructor & {
  dependencies?: Readonly<Record<string, CustomElementConstructor>>;
};

/**
 * Registers a custom element unless the tag is taken, and with it the
 * elements it renders, so one element module works on its own. Loading
 * Meetkit twice (two script tags, a bundler plus a CDN copy) must never
 * throw: the first registration wins and a different class gets a warning.
 *
 * The element goes first: it renders only after this returns, so its
 * dependencies are defined by then, and elements a page put inside it (a
 * custom layout in `<meet-room>`) upgrade after it, so their context
 * requests find it. The other way round they would be lost.
 */
export function defineElement(tag: string, element: ElementWithDependencies): void {
  const existing = customElements.get(tag);
  if (existing === element) return;
  if (existing) {
    console.warn(`Meetkit: <${tag}> is already defined by another copy of Meetkit; keeping the first one.`);
    return;
  }
  customElements.define(tag, element);
  for (const [dependency, constructor] of Object.entries(element.dependencies ?? {}))
    defineElement(dependency, constructor);
}
