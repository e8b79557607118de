/** Where Chromium is, and the flags that keep it quiet, offline and on loopback (TOOLCHAIN.md). */
import { existsSync } from 'node:fs';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** `CHROME_PATH` if set, else Debian's chromium; null when neither exists. */
export function chromiumPath(): string | null {
  const path = process.env.CHROME_PATH || DEFAULT_CHROMIUM;
  return existsSync(path) ? path : null;
}

export function findChromium(): string {
  const path = chromiumPath();
  if (!path) {
    throw new Error(
      `Chromium not found at ${process.env.CHROME_PATH || DEFAULT_CHROMIUM}. Install it (Debian: apt-get install chromium) or set CHROME_PATH.`,
    );
  }
  return path;
}

/** `fps`: frame rate of the fake camera (Chromium's default is 20). */
export function chromiumArgs({ media = false, fps = 0 } = {}): string[] {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  if (media) {
    args.push(
      '--use-fake-ui-for-media-stream',
      fps ? `--use-fake-device-for-media-stream=fps=${fps}` : '--use-fake-device-for-media-stream',
      '--allow-loopback-in-peer-connection',
      // Test audio sources (a tone that turns on and off) start without a click.
      '--autoplay-policy=no-user-gesture-required',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    );
  }
  return args;
}
