import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeSetupFailure,
  failureDetail,
  withoutUrlCredentials,
  howToGetPython,
  SetupError,
} from '../../../extension/src/environment/setupErrors';

describe('describeSetupFailure', () => {
  it('says how to get a Python on each operating system when there is none', () => {
    const linux = describeSetupFailure(new SetupError('noPython', 'python3, python'), 'linux');
    const mac = describeSetupFailure(new SetupError('noPython', 'python3, python'), 'darwin');
    const windows = describeSetupFailure(new SetupError('noPython', 'python, python3'), 'win32');

    assert.match(linux?.message ?? '', /found none.*sudo apt install python3 python3-venv/);
    assert.match(mac?.message ?? '', /brew install python@3\.12/);
    assert.match(windows?.message ?? '', /winget install Python\.Python\.3\.12/);
    assert.deepEqual(linux?.actions, ['retry', 'useAnotherPython', 'showLogs']);
  });

  it('names the versions it found when they are too old', () => {
    const failure = describeSetupFailure(new SetupError('unsupportedPython', 'Python 3.9 (python3)'), 'linux');

    assert.match(failure?.message ?? '', /needs Python 3\.10 to 3\.13 and found Python 3\.9 \(python3\)/);
    assert.ok(failure?.actions.includes('useAnotherPython'));
  });

  it('offers Retry first when the package index refused, and points at the pip configuration', () => {
    const failure = describeSetupFailure(new SetupError('installFailed', 'Could not find a version that satisfies av==19.0.2'), 'linux');

    assert.match(failure?.message ?? '', /installing its packages failed \(Could not find a version.*pip configuration \(index, proxy, certificates\)/);
    assert.deepEqual(failure?.actions, ['retry', 'showLogs', 'useAnotherPython']);
  });

  it('tells a Debian user to install python3-venv', () => {
    const failure = describeSetupFailure(new SetupError('noVenv', '/usr/bin/python3.11'), 'linux');

    assert.match(failure?.message ?? '', /\/usr\/bin\/python3\.11 cannot create virtual environments.*python3-venv/);
  });

  it('stays quiet about a cancellation', () => {
    assert.equal(describeSetupFailure(new SetupError('cancelled', 'cancelled'), 'linux'), undefined);
  });

  it('sends a build without the wheel to the settings', () => {
    const failure = describeSetupFailure(new SetupError('incompleteExtension', 'the voicepilot wheel'), 'linux');

    assert.deepEqual(failure?.actions, ['openSettings', 'showLogs']);
  });
});

describe('failureDetail', () => {
  it("keeps the installer's last error line, without pip's warnings", () => {
    const lines = [
      'Looking in indexes: http://127.0.0.1:9/simple',
      'WARNING: Retrying (Retry(total=4)) after connection broken',
      'ERROR: Could not find a version that satisfies the requirement aiohappyeyeballs==2.7.1.',
      'ERROR: No matching distribution found for aiohappyeyeballs==2.7.1',
      'WARNING: there was an error checking the latest version of pip.',
    ];

    assert.equal(failureDetail(lines), 'No matching distribution found for aiohappyeyeballs==2.7.1');
  });

  it('never shows the password of an index or proxy URL', () => {
    const lines = ["ERROR: Could not fetch URL https://me:s3cret-token@index.example/simple/: connection refused"];

    assert.equal(failureDetail(lines), 'Could not fetch URL https://***@index.example/simple/: connection refused');
    assert.equal(withoutUrlCredentials('proxy http://u:p@10.0.0.1:3128 and http://host/x'), 'proxy http://***@10.0.0.1:3128 and http://host/x');
  });

  it('falls back to the last line, then to a placeholder', () => {
    assert.equal(failureDetail(['', 'Killed', '']), 'Killed');
    assert.equal(failureDetail([]), 'no output');
  });

  it('has advice for every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32', 'freebsd'] as const) {
      assert.match(howToGetPython(platform), /Python 3\.1\d/);
    }
  });
});
