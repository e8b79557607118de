/**
 * How loud a microphone is, heard on this page only: a WebAudio analyser on
 * the track, nothing sent anywhere. For the "You are muted" hint, whose
 * microphone track is never given to the call.
 */

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
  // Muting is a click, so the page may start audio; a context that stays suspended reads silence.
  void context.resume().catch(() => undefined);
  const samples = new Float32Array(analyser.fftSize);
  return {
    level() {
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
      return peak;
    },
    close() {
      source.disconnect();
      for (const track of stream.getTracks()) track.stop();
      void context.close().catch(() => undefined);
    },
  };
}
