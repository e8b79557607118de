/**
 * A microphone that plays a tone you can turn on and off: for tests of who
 * is speaking (Chromium's fake microphone beeps once a second by itself).
 * Hand `mediaDevices` to `createDevices`; the camera stays the fake one.
 */
export interface ToneMicrophone {
  mediaDevices: MediaDevices;
  /** Starts (true) or stops (false) the tone; silence in between. */
  play(on: boolean): void;
  close(): Promise<void>;
}

export function createToneMicrophone(): ToneMicrophone {
  const context = new AudioContext();
  const oscillator = new OscillatorNode(context, { frequency: 440 });
  const gain = new GainNode(context, { gain: 0 });
  const destination = context.createMediaStreamDestination();
  oscillator.connect(gain).connect(destination);
  oscillator.start();
  const real = navigator.mediaDevices;
  // The real devices for everything else, called on the real object (they check their receiver).
  const mediaDevices = {
    enumerateDevices: () => real.enumerateDevices(),
    addEventListener: real.addEventListener.bind(real),
    removeEventListener: real.removeEventListener.bind(real),
    dispatchEvent: real.dispatchEvent.bind(real),
    async getUserMedia(constraints: MediaStreamConstraints) {
      await context.resume();
      const video = constraints.video ? await real.getUserMedia({ video: constraints.video }) : null;
      const audio = constraints.audio ? [destination.stream.getAudioTracks()[0]!.clone()] : [];
      return new MediaStream([...audio, ...(video?.getVideoTracks() ?? [])]);
    },
  } as unknown as MediaDevices;
  return {
    mediaDevices,
    play: (on) => gain.gain.setValueAtTime(on ? 0.5 : 0, context.currentTime),
    close: () => context.close(),
  };
}
