import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expandPathVariables,
  resolveExecutableSetting,
  resolveFileSetting,
  type PathContext,
} from '../../../extension/src/settings/paths';

const withFolder: PathContext = { workspaceFolder: '/work/project', homeDir: '/home/dev' };
const noFolder: PathContext = { workspaceFolder: undefined, homeDir: '/home/dev' };

describe('expandPathVariables', () => {
  it('expands ${workspaceFolder}, ${userHome} and a leading ~', () => {
    assert.equal(expandPathVariables('${workspaceFolder}/.venv/bin/python', withFolder), '/work/project/.venv/bin/python');
    assert.equal(expandPathVariables('${userHome}/py/bin/python', withFolder), '/home/dev/py/bin/python');
    assert.equal(expandPathVariables('~/demo.wav', withFolder), '/home/dev/demo.wav');
    assert.equal(expandPathVariables('/data/~backup.wav', withFolder), '/data/~backup.wav');
  });

  it('gives up on ${workspaceFolder} when no folder is open', () => {
    assert.equal(expandPathVariables('${workspaceFolder}/demo.wav', noFolder), undefined);
  });
});

describe('resolveFileSetting', () => {
  it('anchors a relative path at the workspace folder', () => {
    assert.equal(resolveFileSetting('samples/hello.wav', withFolder), '/work/project/samples/hello.wav');
    assert.equal(resolveFileSetting(' /tmp/hello.wav ', withFolder), '/tmp/hello.wav');
  });

  it('treats an empty setting as unset', () => {
    assert.equal(resolveFileSetting('   ', withFolder), undefined);
  });

  it('leaves a relative path alone when no folder is open', () => {
    assert.equal(resolveFileSetting('hello.wav', noFolder), 'hello.wav');
  });
});

describe('resolveExecutableSetting', () => {
  it('keeps a bare command name for PATH look-up', () => {
    assert.equal(resolveExecutableSetting('python3.12', withFolder), 'python3.12');
  });

  it('resolves anything with a separator as a file', () => {
    assert.equal(resolveExecutableSetting('.venv/bin/python', withFolder), '/work/project/.venv/bin/python');
    assert.equal(resolveExecutableSetting('', withFolder), undefined);
  });
});
