// Sidecar notifications several extension tests feed in (unit tests and extension-host tests).
import type { DeviceStateParams } from '../../extension/src/sidecar/contract';

/** The chosen microphone went away mid-session; the default one took over. */
export const MIC_GONE: DeviceStateParams = {
  kind: 'input',
  state: 'fallback',
  previous: 'active',
  device: 'default',
  message: "The microphone 'USB Mic' disappeared. Using the microphone 'default' now.",
  errorKind: 'device',
};

/** The chosen microphone came back. */
export const MIC_BACK: DeviceStateParams = {
  kind: 'input',
  state: 'active',
  previous: 'fallback',
  device: 'USB Mic',
  message: "The microphone 'USB Mic' is back: using it again.",
};

/** The speaker failed and no other works. */
export const SPEAKER_PAUSED: DeviceStateParams = {
  kind: 'output',
  state: 'paused',
  previous: 'active',
  message: "The speaker 'Speakers' failed. No other speaker works: playback is paused; VoicePilot keeps trying.",
  errorKind: 'device',
};
