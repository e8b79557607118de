/**
 * Where this script was loaded from: the default `server` of `<meet-room>`.
 * Read once at load: a classic `<script>` (the IIFE build) is still
 * `document.currentScript` then; the module build knows its own URL.
 */
function findScriptOrigin(): string {
  const script = typeof document === 'undefined' ? null : document.currentScript;
  if (script instanceof HTMLScriptElement && script.src) return new URL(script.src).origin;
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return location.origin;
  }
}

export const scriptOrigin: string = findScriptOrigin();
