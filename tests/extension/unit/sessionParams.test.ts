import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EDITOR_TOOLS } from '../../../extension/src/sidecar/contract';
import { buildStartSessionParams, type ConversationSettings } from '../../../extension/src/sidecar/sessionParams';

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

  it('asks for a text-only conversation with no audio device in text mode', () => {
    const params = buildStartSessionParams({ ...DEFAULTS, modality: 'text', outputDevice: 'USB', inputDevice: 'Mic' });

    assert.deepEqual(params, { profile: 'local', modality: 'text', tools: [...EDITOR_TOOLS] });
    assert.equal(buildStartSessionParams({ ...DEFAULTS, modality: 'voice' }).modality, undefined);
    assert.equal(buildStartSessionParams({ ...DEFAULTS, modality: 'text' }, 'dictation').modality, undefined);
  });

  it('sends only the speech settings that differ from the defaults', () => {
    const defaults = {
      turnDetection: 'server_vad',
      eagerness: 'auto',
      idleTimeoutMs: 0,
      noiseReduction: 'off',
      transcriptionModel: '',
      transcriptionLanguage: ' ',
    } as const;
    assert.equal(buildStartSessionParams({ ...DEFAULTS, speech: defaults }).speech, undefined);

    const chosen = buildStartSessionParams({
      ...DEFAULTS,
      speech: { ...defaults, noiseReduction: 'far_field', transcriptionModel: ' gpt-4o-transcribe ', transcriptionLanguage: 'de' },
    });
    assert.deepEqual(chosen.speech, {
      noiseReduction: 'far_field',
      transcriptionModel: 'gpt-4o-transcribe',
      transcriptionLanguage: 'de',
    });
  });

  it('sends semantic VAD with its eagerness, and the idle timeout for server VAD only, within its bounds', () => {
    const semantic = buildStartSessionParams({
      ...DEFAULTS,
      speech: { turnDetection: 'semantic_vad', eagerness: 'high', idleTimeoutMs: 8000 },
    });
    assert.deepEqual(semantic.speech, { turnDetection: 'semantic_vad', eagerness: 'high' });
    const idle = (ms: number) => buildStartSessionParams({ ...DEFAULTS, speech: { idleTimeoutMs: ms } }).speech;
    assert.deepEqual(idle(8000), { idleTimeoutMs: 8000 });
    assert.deepEqual(idle(10), { idleTimeoutMs: 5000 });
    assert.deepEqual(idle(90000), { idleTimeoutMs: 30000 });
  });

  it('sends the ICE servers, the relay policy and the proxy, trimmed, and leaves out empty ones', () => {
    const params = buildStartSessionParams({
      ...DEFAULTS,
      iceServers: [{ urls: [' turns:turn.example.com:443 ', ''], username: 'me' }, { urls: [' '] }],
      iceTransportPolicy: 'relay',
      proxy: ' http://proxy.corp:3128 ',
    });

    assert.deepEqual(params.connection, {
      iceServers: [{ urls: ['turns:turn.example.com:443'], username: 'me' }],
      iceTransportPolicy: 'relay',
      proxy: 'http://proxy.corp:3128',
    });
    const defaults = buildStartSessionParams({ ...DEFAULTS, iceServers: [], iceTransportPolicy: 'all', proxy: '' });
    assert.ok(!('connection' in defaults));
  });

  it('sends the VAD parameters in VAD mode only', () => {
    const vad = { threshold: 0.7, prefixPaddingMs: 200, silenceDurationMs: 800 };

    assert.deepEqual(buildStartSessionParams({ ...DEFAULTS, vad }).vad, vad);
    assert.equal(buildStartSessionParams({ ...DEFAULTS, vad, turnTaking: 'pushToTalk' }).vad, undefined);
  });

  it('sends barge-in when on, and echo cancellation only when turned off (the sidecar defaults it on)', () => {
    assert.equal(buildStartSessionParams({ ...DEFAULTS, bargeIn: true, echoCancellation: true }).bargeIn, true);
    assert.ok(!('echoCancellation' in buildStartSessionParams({ ...DEFAULTS, bargeIn: true, echoCancellation: true })));
    assert.equal(buildStartSessionParams({ ...DEFAULTS, bargeIn: true, echoCancellation: false }).echoCancellation, false);
  });

  it('streams the input file instead of the microphone when one is set', () => {
    const params = buildStartSessionParams({ ...DEFAULTS, inputFile: '/work/project/hello.wav' });

    assert.deepEqual(params.input, { kind: 'file', path: '/work/project/hello.wav' });
  });

  it('sends the input file\'s length limit when one is set', () => {
    const params = buildStartSessionParams({ ...DEFAULTS, inputFile: '/work/project/hello.wav', maxFileSeconds: 90 });

    assert.deepEqual(params.input, { kind: 'file', path: '/work/project/hello.wav', maxSeconds: 90 });
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

describe('buildStartSessionParams: the rest of the settings', () => {
  it('sends region, allowlist, auth, connection tuning, devices and push to talk', () => {
    const params = buildStartSessionParams({
      ...DEFAULTS,
      profile: 'azure',
      azureEndpoint: 'https://res.openai.azure.com',
      azureApiFlavor: 'preview',
      azureRegion: 'swedencentral',
      azureAuth: 'entra',
      allowedRegions: ['swedencentral', ' '],
      inputDevice: 'USB mic',
      outputDevice: 'Headphones',
      turnTaking: 'pushToTalk',
      renewIntervalS: 20,
      maxSessionS: 600,
      transport: 'websocket',
    });

    assert.deepEqual(params.connection, {
      endpoint: 'https://res.openai.azure.com',
      region: 'swedencentral',
      apiFlavor: 'preview',
      auth: 'entra',
      allowedRegions: ['swedencentral'],
      renewIntervalS: 20,
      maxSessionS: 600,
      transport: 'websocket',
    });
    assert.deepEqual(params.input, { kind: 'device', name: 'USB mic' });
    assert.deepEqual(params.output, { kind: 'device', name: 'Headphones' });
    assert.equal(params.turnTaking, 'pushToTalk');
  });

  it('dictates without tools or speech, with instructions that keep the assistant quiet', () => {
    const params = buildStartSessionParams({ ...DEFAULTS, instructions: 'be brief' }, 'dictation');

    assert.equal(params.mode, 'dictation');
    assert.deepEqual(params.tools, []);
    assert.deepEqual(params.output, { kind: 'none' });
    assert.match(params.connection?.instructions ?? '', /dictation/);
  });
});
