/** Loads the module of an element that is rendered only later, and gives its class. */
export type ElementLoader = () => Promise<CustomElementConstructor>;

/** An element class, with the elements it renders (as Shoelace's `static dependencies`). */
type ElementWithDependencies = CustomElementConstructor & {
  dependencies?: Readonly<Record<string, CustomElementConstructor>>;
  lazyDependencies?: Readonly<Record<string, ElementLoader>>;
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
 *
 * Lazy dependencies (what `<meet-room>` shows only in a meeting) start
 * loading now and are registered when their module arrives: the page sees
 * the element at once, and an element it renders, or that the page put
 * inside it, upgrades a moment later (`customElements.whenDefined(tag)`).
 * Now rather than on first use: a page may use them anywhere, shadow roots
 * included, where nothing would tell; and the sooner they load, the smaller
 * the chance that a deploy has replaced the chunks this script was built with.
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
  for (const [dependency, load] of Object.entries(element.lazyDependencies ?? {})) {
    if (customElements.get(dependency)) continue;
    load().then(
      (constructor) => defineElement(dependency, constructor),
      (error: unknown) => console.error(`Meetkit: could not load <${dependency}>.`, error),
    );
  }
}
