// Which files the editor tools may touch: inside a workspace folder once every symbolic link is
// resolved, and not a file that looks like it holds a secret. The model's paths are untrusted
// input. Pure: the file system comes in through a Resolver, so the rules are unit-tested.
import type * as nodePath from 'node:path';

export type PathApi = typeof nodePath.posix;

/** Why a tool may not touch a path, in words the model reads and can pass on to the user. */
// A type, not an interface: the tools return it as one of their JSON records.
// eslint-disable-next-line @typescript-eslint/consistent-type-definitions
export type Refusal = {
  readonly ok: false;
  readonly error: string;
  /** Which rule refused it, when one of the workspace's did. */
  readonly rule?: 'outside' | 'secret';
};

/** A path the model gave, before any lookup: relative to the workspace folders, or absolute. */
export type ToolPath =
  | { readonly ok: true; readonly kind: 'relative'; readonly path: string }
  | { readonly ok: true; readonly kind: 'absolute'; readonly path: string }
  | Refusal;

/** A file a tool may touch: its real path, and that path relative to its real workspace folder. */
export interface Confined {
  readonly ok: true;
  readonly realPath: string;
  readonly relative: string;
}

export interface Resolver {
  readonly path: PathApi;
  /**
   * The path with every symbolic link resolved; undefined when it does not exist. May answer a
   * Refusal, for a file system whose links cannot be followed (a remote folder).
   */
  realpath(path: string): Promise<string | undefined | Refusal>;
}

export function outsideWorkspace(shown: string): Refusal {
  return {
    ok: false,
    error: `"${shown}" is outside the workspace: tools only reach files in the open folders`,
    rule: 'outside',
  };
}

/**
 * Reads a path as the model wrote it. Refuses what can only point outside the workspace (a URL,
 * `~`, a UNC share, a drive letter where there are none, `..` past the folder) without touching
 * the disk; a relative path comes back normalised, with forward slashes.
 */
export function parseToolPath(raw: string, path: PathApi): ToolPath {
  const value = raw.trim();
  // eslint-disable-next-line no-control-regex
  if (value === '' || /[\u0000-\u001f]/.test(value)) {
    return { ok: false, error: 'that is not a usable file path' };
  }
  // A scheme of two letters or more: `file:`, `vscode-remote:`, `https:`; `C:` is a drive.
  if (/^[a-z][a-z0-9+.-]+:/i.test(value)) {
    return outsideWorkspace(value);
  }
  if (value.startsWith('~') || /^[\\/]{2}/.test(value)) {
    return outsideWorkspace(value);
  }
  const drive = /^[a-z]:/i.test(value);
  if (drive && path.sep !== '\\') {
    return outsideWorkspace(value);
  }
  if (drive || value.startsWith('/') || value.startsWith('\\')) {
    return { ok: true, kind: 'absolute', path: path.normalize(value) };
  }
  const segments: string[] = [];
  for (const segment of value.split(/[\\/]+/)) {
    if (segment === '..') {
      if (segments.length === 0) {
        return outsideWorkspace(value);
      }
      segments.pop();
    } else if (segment !== '.' && segment !== '') {
      segments.push(segment);
    }
  }
  return segments.length === 0
    ? { ok: false, error: 'that is a folder, not a file' }
    : { ok: true, kind: 'relative', path: segments.join('/') };
}

/** True when `child` is `parent` or lies below it (both absolute, in `path`'s form). */
export function isWithin(child: string, parent: string, path: PathApi): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!path.isAbsolute(relative) && relative !== '..' && !relative.startsWith(`..${path.sep}`));
}

/**
 * Checks an absolute path against the workspace folders, links resolved on both sides, and the
 * secret-file rules on the path as asked for and as resolved. `shown` is how errors name it.
 * Resolves undefined when the file does not exist (and would be inside).
 */
export async function confine(
  absolute: string,
  folders: readonly string[],
  resolver: Resolver,
  allowedSecrets: readonly string[],
  shown: string,
): Promise<Confined | Refusal | undefined> {
  const { path } = resolver;
  // The name asked for counts too: a link called notes.txt may point at .env, and .env at notes.txt.
  const asked = folders.find((folder) => isWithin(absolute, folder, path));
  const askedSecret =
    asked === undefined ? undefined : secretReason(toPosix(path.relative(asked, absolute), path), allowedSecrets);
  if (askedSecret !== undefined) {
    return secretRefusal(shown, askedSecret);
  }
  // Decided on the real paths: a folder opened through a link holds documents under its real path.
  const real = await resolver.realpath(absolute);
  if (real === undefined) {
    // Whether a file outside exists is none of the model's business.
    return asked === undefined ? outsideWorkspace(shown) : undefined;
  }
  if (typeof real !== 'string') {
    return real;
  }
  for (const folder of folders) {
    const realFolder = await resolver.realpath(folder);
    if (typeof realFolder !== 'string' || !isWithin(real, realFolder, path)) {
      continue;
    }
    const relative = toPosix(path.relative(realFolder, real), path);
    const secret = secretReason(relative, allowedSecrets);
    return secret === undefined ? { ok: true, realPath: real, relative } : secretRefusal(shown, secret);
  }
  return outsideWorkspace(shown);
}

function secretRefusal(shown: string, reason: string): Refusal {
  return {
    ok: false,
    rule: 'secret',
    error:
      `"${shown}" looks like it holds secrets (${reason}), so tools do not touch it; the user can allow it ` +
      'in the setting voicepilot.tools.allowedSecretFiles',
  };
}

function toPosix(relative: string, path: PathApi): string {
  return path.sep === '/' ? relative : relative.split(path.sep).join('/');
}

/** Folders whose every file is a secret or a way to one. */
const SECRET_FOLDERS = ['.git', '.ssh', '.gnupg', '.aws', '.azure', '.kube', '.docker', '.password-store'];
/** Credential stores, by exact file name. */
const SECRET_NAMES = [
  '.netrc',
  '_netrc',
  '.npmrc',
  '.pypirc',
  '.git-credentials',
  '.pgpass',
  '.htpasswd',
  '.dockercfg',
  '.s3cfg',
  '.boto',
  'credentials',
  'credentials.json',
];
/** Keys, certificates with their private key, password databases, state that embeds secrets. */
const SECRET_EXTENSIONS = ['.pem', '.key', '.p12', '.pfx', '.ppk', '.jks', '.keystore', '.kdbx', '.tfstate'];
/** SSH private (and public) keys as ssh-keygen names them: id_rsa, id_ed25519_sk, id_ecdsa.pub. */
const SSH_KEY = /^id_(rsa|dsa|ecdsa|ed25519|xmss)/;

/**
 * Why a workspace-relative path (forward slashes) looks secret, or undefined. Case does not count:
 * `.ENV` is `.env` on the file systems of macOS and Windows. A name (or a folder's name) that
 * matches one of `allowed` (file-name patterns, `*` and `?` as wildcards) is let through.
 */
export function secretReason(relative: string, allowed: readonly string[] = []): string | undefined {
  const segments = relative.toLowerCase().split('/').filter((segment) => segment !== '');
  const patterns = allowed.map(namePattern);
  const lifted = (name: string): boolean => patterns.some((pattern) => pattern.test(name));
  for (const folder of segments.slice(0, -1)) {
    if (SECRET_FOLDERS.includes(folder) && !lifted(folder)) {
      return `it is in a ${folder} folder`;
    }
  }
  const name = segments.at(-1) ?? '';
  if (lifted(name)) {
    return undefined;
  }
  if (SECRET_FOLDERS.includes(name)) {
    return `it is a ${name} folder`;
  }
  if (name.startsWith('.env')) {
    return 'a .env file';
  }
  if (SECRET_NAMES.includes(name)) {
    return 'a credential store';
  }
  const extension = SECRET_EXTENSIONS.find((candidate) => name.endsWith(candidate));
  if (extension !== undefined) {
    return `a ${extension} file`;
  }
  return SSH_KEY.test(name) ? 'an SSH key' : undefined;
}

/** A file-name pattern: `*` any run of characters, `?` one, the rest literal; case does not count. */
function namePattern(pattern: string): RegExp {
  const source = [...pattern.trim().toLowerCase()]
    .map((character) =>
      character === '*' ? '.*' : character === '?' ? '.' : character.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}
