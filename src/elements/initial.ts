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
