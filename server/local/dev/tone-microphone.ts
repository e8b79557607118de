/**
 * A page script (for `addInitScript`) that makes every microphone the page
 * opens a tone, silent until `globalThis.__tone(true)` (which returns
 * `Date.now()`); the camera stays Chromium's fake one. Chromium's own fake
 * microphone beeps once a second, which would make everyone "speak".
 */
export const TONE_MICROPHONE = `
  globalThis.__name = (fn) => fn; // tsx keeps function names with a helper the page lacks.
  const context = new AudioContext();
  const gain = new GainNode(context, { gain: 0 });
  const destination = context.createMediaStreamDestination();
  const oscillator = new OscillatorNode(context, { frequency: 440 });
  oscillator.connect(gain).connect(destination);
  oscillator.start();
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    await context.resume();
    const video = constraints.video ? await getUserMedia({ video: constraints.video }) : null;
    const audio = constraints.audio ? [destination.stream.getAudioTracks()[0].clone()] : [];
    return new MediaStream([...audio, ...(video ? video.getVideoTracks() : [])]);
  };
  globalThis.__tone = (on) => {
    gain.gain.setValueAtTime(on ? 0.5 : 0, context.currentTime);
    return Date.now();
  };
`;
