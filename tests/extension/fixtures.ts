// Sidecar notifications several extension tests feed in (unit tests and extension-host tests).
import type { DeviceStateParams } from '../../extension/src/contract';

/** The chosen microphone went away mid-session; the default one took over. */
export const MIC_GONE: DeviceStateParams = {
  kind: 'input',
  state: 'fallback',
  previous: 'active',
  device: 'default',
  message: "The microphone 'USB Mic' disappeared. Using the microphone 'default' now.",
  errorKind: 'device',
};
