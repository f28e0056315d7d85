import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localChecks, type LocalCheckInput } from '../../../extension/src/commands/localChecks';

const MIC = { name: 'USB mic', description: '', hostApi: 'ALSA', channels: 1, sampleRate: 48000, isDefault: true };
const BASE: LocalCheckInput = {
  settingsProblems: [],
  profile: 'local',
  auth: 'apiKey',
  hasApiKey: false,
  inputFile: undefined,
  devices: { inputs: [MIC], outputs: [] },
};

describe('localChecks', () => {
  it('passes with the local engine, valid settings and a microphone', () => {
    const checks = localChecks(BASE);
    assert.deepEqual(checks.map((check) => [check.name, check.ok]), [
      ['settings valid', true],
      ['credential available', true],
      ['audio devices present', true],
    ]);
  });

  it('fails each check with a next step', () => {
    const checks = localChecks({
      ...BASE,
      settingsProblems: ['bad region'],
      profile: 'azure',
      devices: { inputs: [], outputs: [] },
    });
    assert.ok(checks.every((check) => !check.ok && (check.nextStep ?? '').length > 0));
    assert.match(checks[1]?.nextStep ?? '', /Sign In with Microsoft Entra ID/);
  });

  it('needs no key with Entra ID, and takes an existing input file for the microphone', () => {
    const [, credential, audio] = localChecks({
      ...BASE,
      profile: 'azure',
      auth: 'entra',
      inputFile: { path: '/x.wav', exists: true },
      devices: new Error('no PortAudio'),
    });
    assert.equal(credential?.ok, true);
    assert.equal(audio?.ok, true);
    assert.equal(localChecks({ ...BASE, inputFile: { path: '/x.wav', exists: false } })[2]?.ok, false);
  });
});
