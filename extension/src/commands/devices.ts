// Select Microphone and Select Speaker: the sidecar lists the devices and switches at once; the
// choice is remembered in the user's settings.
import * as vscode from 'vscode';
import { Methods, type AudioDevice } from '../sidecar/contract';
import { CONFIGURATION_SECTION } from '../ids';
import { reportError } from '../views/messages';
import type { Controller } from './controller';

interface DeviceItem extends vscode.QuickPickItem {
  readonly deviceName: string;
}

export async function selectDevice({ sidecar, followedChange }: Controller, kind: 'input' | 'output'): Promise<void> {
  const what = kind === 'input' ? 'microphone' : 'speaker';
  try {
    const listing = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `VoicePilot: listing the ${what}s` },
      () => sidecar.request(Methods.listDevices, {}),
    );
    const devices: AudioDevice[] = kind === 'input' ? listing.inputs : listing.outputs;
    const selected = kind === 'input' ? listing.selectedInput : listing.selectedOutput;
    const items: DeviceItem[] = [
      { label: '$(settings) System default', deviceName: '', picked: selected === undefined },
      ...devices.map((device) => ({
        label: `${device.name === selected ? '$(check)' : '$(blank)'} ${device.name}`,
        description: [device.description, device.isDefault ? 'default' : undefined].filter(Boolean).join(' · '),
        detail: `${device.hostApi}, ${device.channels} channel(s), ${device.sampleRate} Hz`,
        deviceName: device.name,
      })),
    ];
    if (devices.length === 0) {
      void vscode.window.showWarningMessage(`VoicePilot: no ${what} was found.`);
      return;
    }
    const picked = await vscode.window.showQuickPick(items, { title: `VoicePilot: Select ${what === 'microphone' ? 'Microphone' : 'Speaker'}` });
    if (picked === undefined) {
      return;
    }
    await sidecar.request(Methods.selectDevices, kind === 'input' ? { input: picked.deviceName } : { output: picked.deviceName });
    // A running conversation switched already; the restart the setting would cause is not needed.
    followedChange.expect();
    await vscode.workspace
      .getConfiguration(CONFIGURATION_SECTION)
      .update(kind === 'input' ? 'audio.inputDevice' : 'audio.outputDevice', picked.deviceName, vscode.ConfigurationTarget.Global);
  } catch (error) {
    await reportError(`select a ${what}`, error);
  }
}
