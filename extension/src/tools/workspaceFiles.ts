// The files the editor tools may touch, checked on the disk: the rules of confinement.ts applied
// to URIs. Local folders resolve links with fs.realpath; in a remote folder (another scheme),
// whose links cannot be followed from here, a path through any link is refused.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { confine, isWithin, outsideWorkspace, type Confined, type Refusal, type Resolver } from './confinement';

/** A file a tool may touch: the URI to use (links resolved) and its workspace-relative name. */
export interface Access extends Confined {
  readonly uri: vscode.Uri;
}

const localResolver: Resolver = {
  path,
  realpath: async (file) => fs.realpath(file).catch(() => undefined),
};

export class WorkspaceFiles {
  /** `allowedSecrets`: file-name patterns the user let through (voicepilot.tools.allowedSecretFiles). */
  constructor(private readonly allowedSecrets: () => readonly string[]) {}

  get folders(): readonly vscode.Uri[] {
    return (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri);
  }

  /**
   * Whether a tool may touch `uri`; undefined when it does not exist. `shown` is how a refusal
   * names it to the model (what the model asked for, or a document's file name).
   */
  async check(uri: vscode.Uri, shown: string): Promise<Access | Refusal | undefined> {
    const folders = this.folders.filter((folder) => folder.scheme === uri.scheme && folder.authority === uri.authority);
    if (folders.length === 0) {
      return outsideWorkspace(shown);
    }
    const local = uri.scheme === 'file';
    const toPath = (target: vscode.Uri): string => (local ? target.fsPath : target.path);
    const folderPaths = folders.map(toPath);
    const resolver = local ? localResolver : remoteResolver(uri, folderPaths);
    const result = await confine(toPath(uri), folderPaths, resolver, this.allowedSecrets(), shown);
    if (!result?.ok) {
      return result;
    }
    return { ...result, uri: local ? vscode.Uri.file(result.realPath) : uri.with({ path: result.realPath }) };
  }

  /** Whether a tool may read or change an open document: an untitled one, or a file it may touch. */
  async checkDocument(document: vscode.TextDocument): Promise<Access | Refusal> {
    const name = path.posix.basename(document.uri.path);
    if (document.isUntitled) {
      return { ok: true, realPath: name, relative: name, uri: document.uri };
    }
    return (await this.check(document.uri, name)) ?? { ok: false, error: `"${name}" is no longer on disk` };
  }
}

/**
 * For a folder this extension host cannot read with Node: every step below the folder is looked
 * at, and a symbolic link anywhere refuses the path.
 */
function remoteResolver(example: vscode.Uri, folders: readonly string[]): Resolver {
  const posix = path.posix;
  return {
    path: posix,
    realpath: async (target) => {
      const folder = folders.find((candidate) => isWithin(target, candidate, posix));
      if (folder === undefined || folder === target) {
        return target;
      }
      let current = folder;
      for (const segment of posix.relative(folder, target).split('/')) {
        current = posix.join(current, segment);
        let stat: vscode.FileStat;
        try {
          stat = await vscode.workspace.fs.stat(example.with({ path: current }));
        } catch {
          return undefined;
        }
        if ((stat.type & vscode.FileType.SymbolicLink) !== 0) {
          return {
            ok: false,
            error: `"${posix.relative(folder, current)}" is a symbolic link in a remote folder, which tools do not follow`,
          };
        }
      }
      return target;
    },
  };
}
