// Why setting up the voice engine failed, and what the user can do next. Pure: the messages and
// their buttons are unit-tested; setupUi.ts shows them.

export type SetupFailureKind =
  /** No Python ran at all. */
  | 'noPython'
  /** Pythons ran, none of them 3.10 to 3.13. */
  | 'unsupportedPython'
  /** The Python cannot make virtual environments (Debian's python3 without python3-venv). */
  | 'noVenv'
  /** The package index refused or could not be reached, or a package would not install. */
  | 'installFailed'
  /** The .vsix lacks the wheel or the requirements (a build without `npm run package`). */
  | 'incompleteExtension'
  /** The user cancelled the progress notification. */
  | 'cancelled';

export class SetupError extends Error {
  override readonly name = 'SetupError';

  /** `detail`: what the tool said (the last lines of its output), or the versions found. */
  constructor(
    readonly kind: SetupFailureKind,
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
  }
}

export type SetupAction = 'retry' | 'showLogs' | 'useAnotherPython' | 'openSettings';

export const SETUP_ACTION_LABELS: Readonly<Record<SetupAction, string>> = {
  retry: 'Retry',
  showLogs: 'Show Logs',
  useAnotherPython: 'Use Another Python...',
  openSettings: 'Open Settings',
};

export interface SetupFailureMessage {
  readonly message: string;
  readonly actions: readonly SetupAction[];
}

/** How to get a Python that VoicePilot can use, on each operating system. */
export function howToGetPython(platform: NodeJS.Platform): string {
  if (platform === 'win32') {
    return 'Install Python 3.12 from the Microsoft Store or with `winget install Python.Python.3.12`';
  }
  if (platform === 'darwin') {
    return 'Install Python 3.12 with `brew install python@3.12` or the installer from the Python website';
  }
  return (
    'Install Python 3.10 to 3.13 with venv, e.g. `sudo apt install python3 python3-venv` (Debian, Ubuntu) ' +
    'or `sudo dnf install python3` (Fedora)'
  );
}

const PREFIX = "VoicePilot could not set up its voice engine";

/** The notification for a failed setup; undefined for a cancellation, which needs none. */
export function describeSetupFailure(error: SetupError, platform: NodeJS.Platform): SetupFailureMessage | undefined {
  switch (error.kind) {
    case 'cancelled':
      return undefined;
    case 'noPython':
      return {
        message: `${PREFIX}: it needs Python 3.10 to 3.13 and found none. ${howToGetPython(platform)}, then retry.`,
        actions: ['retry', 'useAnotherPython', 'showLogs'],
      };
    case 'unsupportedPython':
      return {
        message: `${PREFIX}: it needs Python 3.10 to 3.13 and found ${error.detail}. ${howToGetPython(platform)}, then retry.`,
        actions: ['retry', 'useAnotherPython', 'showLogs'],
      };
    case 'noVenv':
      return {
        message:
          `${PREFIX}: ${error.detail} cannot create virtual environments.` +
          (platform === 'linux'
            ? ' Install its venv module (Debian, Ubuntu: `sudo apt install python3-venv`), then retry.'
            : ' Retry with another Python.'),
        actions: ['retry', 'useAnotherPython', 'showLogs'],
      };
    case 'installFailed':
      return {
        message:
          `${PREFIX}: installing its packages failed (${error.detail}). Check the network and your pip ` +
          'configuration (index, proxy, certificates), then retry.',
        actions: ['retry', 'showLogs', 'useAnotherPython'],
      };
    case 'incompleteExtension':
      return {
        message:
          `${PREFIX}: this build of the extension lacks ${error.detail}. Reinstall it, or set ` +
          "voicepilot.python.path to a Python that has the sidecar's dependencies.",
        actions: ['openSettings', 'showLogs'],
      };
  }
}

/** `https://user:token@host` becomes `https://***@host`: an index or proxy URL may carry a password. */
export function withoutUrlCredentials(line: string): string {
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

/** Lines from an installer's output that explain a failure best: the last error ones, else the last one. */
export function failureDetail(lines: readonly string[]): string {
  const meaningful = lines.map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('WARNING:'));
  const errors = meaningful.filter((line) => /^(error|×|╰─>)|error:/i.test(line));
  const chosen = errors.length > 0 ? errors[errors.length - 1] : meaningful[meaningful.length - 1];
  return withoutUrlCredentials((chosen ?? 'no output').replace(/^(error:\s*)+/i, '').replace(/\.$/, ''));
}
