/**
 * How loud a microphone is, heard on this page only: a WebAudio analyser on
 * the track, nothing sent anywhere. For the "You are muted" hint (whose
 * microphone track is never given to the call) and the device picker's meter.
 */

/** What counts as the visitor's click or key, which lets a suspended audio context start. */
const INTERACTIONS = ['pointerdown', 'keydown'] as const;

export interface LevelMeter {
  /** The peak (0–1) of the last ~85 ms, the scale of WebRTC's `audioLevel`. */
  level(): number;
  /** Stops the analyser, its audio context and the stream's tracks. */
  close(): void;
}

/** Null where the browser has no WebAudio. */
export function meterStream(stream: MediaStream): LevelMeter | null {
  if (typeof AudioContext === 'undefined') return null;
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  // 4096 samples: most of the 100 ms between two samples, so a short word is not missed.
  const analyser = new AnalyserNode(context, { fftSize: 4096 });
  // An analyser is pulled without being connected to the speakers: nothing is played back.
  source.connect(analyser);
  // A context made before any click on the page waits for one (autoplay policy), and reads silence
  // meanwhile: it starts now if it may, else at the visitor's next click or key.
  const resume = () => void context.resume().catch(() => undefined);
  resume();
  const stopWaiting = () => {
    for (const type of INTERACTIONS) window.removeEventListener(type, resume, { capture: true });
  };
  if (context.state === 'suspended')
    for (const type of INTERACTIONS) window.addEventListener(type, resume, { capture: true });
  const samples = new Float32Array(analyser.fftSize);
  return {
    level() {
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
      return peak;
    },
    close() {
      stopWaiting();
      source.disconnect();
      for (const track of stream.getTracks()) track.stop();
      void context.close().catch(() => undefined);
    },
  };
}
