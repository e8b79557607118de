/**
 * Simulcast: a camera is published in three layers (full, half and quarter
 * resolution), and each viewer receives the one that fits the tile it is
 * shown in. Pure, so the rules are tested as a table.
 */
import type { SimulcastLayer } from '../../protocol/media.js';

export type { SimulcastLayer };

/** What a viewer asked for: only low layers (data saver), or no video at all (audio-only). */
export interface ReceiveSettings {
  dataSaver: boolean;
  audioOnly: boolean;
}

export const DEFAULT_RECEIVE_SETTINGS: ReceiveSettings = { dataSaver: false, audioOnly: false };

/** Limits on the camera this visitor sends, from the embedding page. */
export interface CameraCaps {
  /** Most bits per second for the top layer; lower layers take less. */
  maxBitrate?: number | undefined;
  /** Most frames per second, every layer. */
  maxFramerate?: number | undefined;
}

/**
 * Each layer's width for the camera as `devices.ts` opens it (640×480):
 * what a tile that wide needs. The bitrates are what Chrome's own simulcast
 * table gives those sizes (at 30 fps), so a cap only lowers them.
 */
const LAYERS: readonly { rid: SimulcastLayer; scale: number; width: number; bitrate: number }[] = [
  { rid: 'q', scale: 4, width: 160, bitrate: 150_000 },
  { rid: 'h', scale: 2, width: 320, bitrate: 500_000 },
  { rid: 'f', scale: 1, width: 640, bitrate: 1_200_000 },
];

/**
 * A tile needs a layer at least this share of its width in device pixels:
 * scaling video up by a quarter is hardly visible on a camera picture, and
 * a tile a few pixels wider than a layer should not take twice the bytes.
 */
const UPSCALE_TOLERANCE = 1.25;

/**
 * The layer for a tile `width` device pixels wide (unknown: the top one,
 * as a tile that has not been measured yet may be large). Data saver always
 * takes the lowest.
 */
export function layerForWidth(width: number | undefined, settings: Pick<ReceiveSettings, 'dataSaver'>) {
  if (settings.dataSaver) return LAYERS[0]!.rid;
  if (width === undefined || !Number.isFinite(width) || width <= 0) return LAYERS[LAYERS.length - 1]!.rid;
  return (LAYERS.find((layer) => layer.width * UPSCALE_TOLERANCE >= width) ?? LAYERS[LAYERS.length - 1]!).rid;
}

/**
 * A cap that means something: a finite number above zero. Anything else (an
 * attribute left empty or mistyped gives 0 or NaN) is no cap, rather than an
 * encoding `setParameters` refuses.
 */
function positive(n: number | undefined): number | undefined {
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The camera's `sendEncodings`, highest first: Chrome sends fewer layers
 * from a small camera (two from 640×480, three from 960×540 up) and drops
 * the last ones listed, so the full layer must come first. Data saver sends
 * no full layer (nobody needs it from someone saving data); the caps lower
 * every layer's bitrate to at most the cap and limit the frame rate.
 */
export function cameraEncodings(caps: CameraCaps = {}, dataSaver = false): RTCRtpEncodingParameters[] {
  const cap = positive(caps.maxBitrate) ?? Infinity;
  const fps = positive(caps.maxFramerate);
  return [...LAYERS].reverse().map(({ rid, scale, bitrate }) => ({
    rid,
    active: !(dataSaver && rid === 'f'),
    scaleResolutionDownBy: scale,
    maxBitrate: Math.round(Math.min(bitrate, cap * (bitrate / LAYERS[LAYERS.length - 1]!.bitrate))),
    ...(fps ? { maxFramerate: fps } : {}),
  }));
}
