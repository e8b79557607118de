/**
 * Where the time of a join goes: a page script that notes, in each page,
 * when room messages go out and come in, when media API requests start and
 * end, and when peer connections connect and get tracks (wall-clock ms, so
 * two pages of one machine compare). The join benchmark reads it back and
 * prints the steps from the Join click to the first remote frame.
 */

/** One thing a page noted: what, and when (ms since the epoch). */
export interface TraceMark {
  what: string;
  at: number;
}

/** Runs in the page before anything else (`addInitScript`). */
export const TRACE_SCRIPT = `(() => {
  const marks = [];
  globalThis.__meetTrace = marks;
  const note = (what) => marks.push({ what, at: performance.timeOrigin + performance.now() });
  const typeOf = (data) => {
    try {
      const message = JSON.parse(data);
      if (message.type === 'participant-updated' && message.changes && message.changes.tracks) return 'tracks';
      return message.type;
    } catch {
      return 'frame';
    }
  };
  const NativeWebSocket = globalThis.WebSocket;
  globalThis.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => note('recv:' + typeOf(event.data)));
    }
    send(data) {
      note('send:' + typeOf(data));
      return super.send(data);
    }
  };
  const nativeFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const op = /\\/media\\/([a-z]+)$/.exec(String(input instanceof Request ? input.url : input))?.[1];
    if (!op) return nativeFetch(input, init);
    note('media:' + op + ':start');
    try {
      return await nativeFetch(input, init);
    } finally {
      note('media:' + op + ':end');
    }
  };
  const NativePeerConnection = globalThis.RTCPeerConnection;
  globalThis.RTCPeerConnection = class extends NativePeerConnection {
    constructor(...args) {
      super(...args);
      note('pc:new');
      this.addEventListener('connectionstatechange', () => note('pc:' + this.connectionState));
      this.addEventListener('track', () => note('pc:track'));
    }
  };
})();`;

/** What a page noted: read with `page.evaluate(readTrace)`. */
export const readTrace = (): TraceMark[] =>
  ((globalThis as { __meetTrace?: TraceMark[] }).__meetTrace ?? []).slice();

/** In the page: whether a peer connection has connected (`page.waitForFunction(mediaConnected)`). */
export const mediaConnected = (): boolean =>
  ((globalThis as { __meetTrace?: TraceMark[] }).__meetTrace ?? []).some(
    (mark) => mark.what === 'pc:connected',
  );

/** The steps of one join, each as ms after the click (null: not seen). */
export type JoinSteps = Record<string, number | null>;

/**
 * The joiner's and the viewer's marks as steps after the click: the first
 * time each thing happened at or after it.
 */
export function joinSteps(
  joinedAt: number,
  frameAt: number,
  joiner: TraceMark[],
  viewer: TraceMark[],
): JoinSteps {
  const firstOf = firstAfter(joinedAt);
  return {
    'joiner sends join': firstOf(joiner, 'send:join'),
    'joiner media session': firstOf(joiner, 'media:session:end'),
    'joiner publish answered': firstOf(joiner, 'media:publish:end'),
    'joiner connected': firstOf(joiner, 'pc:connected'),
    'joiner announces tracks': firstOf(joiner, 'send:update'),
    'viewer hears of the join': firstOf(viewer, 'recv:participant-joined'),
    'viewer hears of the tracks': firstOf(viewer, 'recv:tracks'),
    'viewer asks to pull': firstOf(viewer, 'media:pull:start'),
    'viewer has the offer': firstOf(viewer, 'media:pull:end'),
    'viewer renegotiated': firstOf(viewer, 'media:renegotiate:end'),
    'viewer connected': firstOf(viewer, 'pc:connected'),
    'viewer first frame': Math.round(frameAt - joinedAt),
  };
}

/** The steps of a joiner who had nothing on, until the first frame on their own page. */
export function coldJoinSteps(joinedAt: number, frameAt: number, joiner: TraceMark[]): JoinSteps {
  const firstOf = firstAfter(joinedAt);
  return {
    'sends join': firstOf(joiner, 'send:join'),
    'media session': firstOf(joiner, 'media:session:end'),
    'asks to pull': firstOf(joiner, 'media:pull:start'),
    'has the offer': firstOf(joiner, 'media:pull:end'),
    renegotiated: firstOf(joiner, 'media:renegotiate:end'),
    connected: firstOf(joiner, 'pc:connected'),
    'first frame': Math.round(frameAt - joinedAt),
  };
}

/** When each thing was first noted at or after `joinedAt` (ms after it; null: never). */
const firstAfter = (joinedAt: number) => (marks: TraceMark[], what: string) => {
  const mark = marks.find((m) => m.what === what && m.at >= joinedAt);
  return mark ? Math.round(mark.at - joinedAt) : null;
};
