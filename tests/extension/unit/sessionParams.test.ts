import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EDITOR_TOOLS } from '../../../extension/src/contract';
import { buildStartSessionParams, type ConversationSettings } from '../../../extension/src/sessionParams';

const DEFAULTS: ConversationSettings = {
  profile: 'local',
  azureEndpoint: '',
  azureDeployment: '',
  azureApiVersion: '',
  voice: '',
  instructions: '',
  inputFile: undefined,
};

describe('buildStartSessionParams', () => {
  it('sends the microphone, the editor tools and no connection settings by default', () => {
    const params = buildStartSessionParams(DEFAULTS);

    assert.deepEqual(params, { profile: 'local', input: { kind: 'device' }, tools: [...EDITOR_TOOLS] });
    assert.ok(!('connection' in params));
  });

  it('streams the input file instead of the microphone when one is set', () => {
    const params = buildStartSessionParams({ ...DEFAULTS, inputFile: '/work/project/hello.wav' });

    assert.deepEqual(params.input, { kind: 'file', path: '/work/project/hello.wav' });
  });

  it('sends the Azure settings with the azure profile, trimmed, empty ones left out', () => {
    const params = buildStartSessionParams({
      ...DEFAULTS,
      profile: 'azure',
      azureEndpoint: ' https://example-resource.example ',
      azureDeployment: 'gpt-realtime',
      voice: 'verse',
    });

    assert.deepEqual(params.connection, {
      endpoint: 'https://example-resource.example',
      deployment: 'gpt-realtime',
      voice: 'verse',
    });
  });

  it('leaves the Azure settings out of other profiles', () => {
    const params = buildStartSessionParams({
      ...DEFAULTS,
      profile: 'openai',
      azureEndpoint: 'https://example-resource.example',
      instructions: 'Answer briefly.',
    });

    assert.deepEqual(params.connection, { instructions: 'Answer briefly.' });
  });
});
