import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EDITOR_TOOLS } from '../../../extension/src/sidecar/contract';
import {
  MAX_LIST_ITEMS,
  MAX_STRING_CHARACTERS,
  MAX_TEXT_CHARACTERS,
  RUN_COMMAND_ALLOWLIST,
  commandAllowlist,
  confirmationReason,
  fileSearchGlob,
  parseToolCall,
  toolOutput,
  type ParsedToolCall,
  type ToolCall,
} from '../../../extension/src/tools/toolCalls';

function errorOf(parsed: ParsedToolCall): string {
  assert.equal(parsed.ok, false, `expected a refusal, got ${JSON.stringify(parsed)}`);
  return parsed.ok ? '' : parsed.error;
}

describe('run_command', () => {
  it('maps each spoken name to its editor command', () => {
    assert.deepEqual(RUN_COMMAND_ALLOWLIST, {
      'format document': 'editor.action.formatDocument',
      'toggle terminal': 'workbench.action.terminal.toggleTerminal',
      'close editor': 'workbench.action.closeActiveEditor',
      'new terminal': 'workbench.action.terminal.new',
      undo: 'undo',
    });
  });

  it('allows exactly the names the tool declares to the model', () => {
    const declared = EDITOR_TOOLS.find((tool) => tool.name === 'run_command')?.parameters as {
      properties: { command: { enum: string[] } };
    };

    assert.deepEqual([...declared.properties.command.enum].sort(), Object.keys(RUN_COMMAND_ALLOWLIST).sort());
  });

  it('accepts any case and spacing', () => {
    assert.deepEqual(parseToolCall('run_command', { command: ' Format   Document ' }), {
      ok: true,
      call: {
        tool: 'run_command',
        spokenName: 'format document',
        commandId: 'editor.action.formatDocument',
        allowlisted: true,
      },
    });
  });

  it('refuses open_file paths outside the workspace before any lookup', () => {
    for (const filePath of ['../../outside.txt', '~/.ssh/id_rsa', 'file:///etc/passwd', '\\\\host\\share\\x']) {
      assert.match(errorOf(parseToolCall('open_file', { path: filePath })), /is outside the workspace/, filePath);
    }
    assert.deepEqual(parseToolCall('open_file', { path: '/etc/passwd' }, {}, path.posix), {
      ok: true,
      call: { tool: 'open_file', path: '/etc/passwd', absolute: true },
    });
  });

  it('refuses spoken names that are not allowlisted', () => {
    for (const command of ['delete file', 'rm -rf', '', 42]) {
      assert.match(errorOf(parseToolCall('run_command', { command })), /is not an allowlisted command; allowed: /);
    }
  });

  it('takes a raw command id as off the allowlist, to be confirmed by the user', () => {
    assert.deepEqual(parseToolCall('run_command', { command: 'workbench.action.terminal.kill' }), {
      ok: true,
      call: {
        tool: 'run_command',
        spokenName: 'workbench.action.terminal.kill',
        commandId: 'workbench.action.terminal.kill',
        allowlisted: false,
      },
    });
  });

  it('looks names up as own properties only: __proto__, constructor and toString are not allowlisted', () => {
    for (const command of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      assert.match(errorOf(parseToolCall('run_command', { command })), /is not an allowlisted command/, command);
      assert.match(
        errorOf(parseToolCall('run_command', { command }, { 'zen mode': 'workbench.action.toggleZenMode' })),
        /is not an allowlisted command/,
        command,
      );
    }
  });

  it("keeps the built-in names: a user's extra cannot replace one", () => {
    const extras = { 'Format Document': 'workbench.action.terminal.kill', undo: 'workbench.action.closeAllEditors' };
    for (const [command, commandId] of [
      ['format document', 'editor.action.formatDocument'],
      ['undo', 'undo'],
    ]) {
      const parsed = parseToolCall('run_command', { command }, extras);
      assert.equal(parsed.ok && parsed.call.tool === 'run_command' ? parsed.call.commandId : undefined, commandId);
    }
  });

  it('ignores extras that name no command id', () => {
    const extras = { shell: 'rm -rf /', number: 42, nested: { id: 'undo' } };
    assert.deepEqual([...commandAllowlist(extras).keys()], Object.keys(RUN_COMMAND_ALLOWLIST));
  });

  it("extends the allowlist with the user's spoken names", () => {
    const parsed = parseToolCall('run_command', { command: 'Zen Mode' }, { 'zen  mode': 'workbench.action.toggleZenMode' });
    assert.deepEqual(parsed, {
      ok: true,
      call: { tool: 'run_command', spokenName: 'zen mode', commandId: 'workbench.action.toggleZenMode', allowlisted: true },
    });
  });
});

/** A bare cursor, nothing selected. */
const BARE = { selectedCharacters: 0 };

describe('confirmationReason', () => {
  const call = (name: string, args: Record<string, unknown> = {}): ToolCall => {
    const parsed = parseToolCall(name, args);
    assert.ok(parsed.ok);
    return parsed.call;
  };

  it('asks before a command off the allowlist, saving every file, and replacing a selection', () => {
    assert.equal(
      confirmationReason(call('run_command', { command: 'workbench.action.terminal.kill' }), BARE),
      'run the command workbench.action.terminal.kill, which is not on the allowlist',
    );
    assert.equal(
      confirmationReason(call('insert_text', { text: 'x' }), { selectedCharacters: 12, targetFile: 'src/a.py' }),
      'replace the 12 selected characters in src/a.py',
    );
  });

  it('names every file save_all will write, and says which stay unsaved', () => {
    assert.equal(
      confirmationReason(call('save_all'), { ...BARE, filesToSave: ['a.py', 'src/b.py'] }),
      'save 2 files to disk: a.py, src/b.py',
    );
    assert.equal(
      confirmationReason(call('save_all'), {
        ...BARE,
        filesToSave: ['a.py'],
        leftUnsaved: '1 modified file outside the workspace',
      }),
      'save 1 file to disk: a.py (1 modified file outside the workspace stay unsaved)',
    );
    const many = Array.from({ length: 12 }, (_, index) => `f${index}.py`);
    assert.match(confirmationReason(call('save_all'), { ...BARE, filesToSave: many }) ?? '', /f9\.py and 2 more$/);
    assert.equal(confirmationReason(call('save_all'), { ...BARE, filesToSave: [] }), undefined);
  });

  it('does not ask for moves, searches, allowlisted commands or an insertion at a bare cursor', () => {
    for (const [name, args] of [
      ['go_to_line', { line: 3 }],
      ['open_file', { path: 'a.py' }],
      ['find_in_workspace', { query: 'x' }],
      ['run_command', { command: 'format document' }],
      ['insert_text', { text: 'x' }],
      ['explain_selection', {}],
    ] as const) {
      assert.equal(confirmationReason(call(name, args), BARE), undefined, name);
    }
  });
});

describe('parseToolCall', () => {
  it('takes a line number as a number or a numeric string', () => {
    assert.deepEqual(parseToolCall('go_to_line', { line: 42 }), { ok: true, call: { tool: 'go_to_line', line: 42 } });
    assert.deepEqual(parseToolCall('go_to_line', { line: ' 7 ' }), { ok: true, call: { tool: 'go_to_line', line: 7 } });
  });

  it('refuses line numbers below 1, fractions, words and a missing line', () => {
    for (const args of [{ line: 0 }, { line: -3 }, { line: 4.5 }, { line: 'forty' }, {}]) {
      assert.match(errorOf(parseToolCall('go_to_line', args)), /needs "line"/, JSON.stringify(args));
    }
  });

  it('normalises a file path and refuses patterns', () => {
    assert.deepEqual(parseToolCall('open_file', { path: './src\\main.py' }, {}, path.posix), {
      ok: true,
      call: { tool: 'open_file', path: 'src/main.py', absolute: false },
    });
    assert.match(errorOf(parseToolCall('open_file', { path: '**/*.py' })), /not a pattern/);
    assert.match(errorOf(parseToolCall('open_file', { path: '  ' })), /needs "path"/);
  });

  it('trims a search query but keeps inserted text exactly', () => {
    assert.deepEqual(parseToolCall('find_in_workspace', { query: ' todo ' }), {
      ok: true,
      call: { tool: 'find_in_workspace', query: 'todo' },
    });
    assert.deepEqual(parseToolCall('insert_text', { text: '  return x\n' }), {
      ok: true,
      call: { tool: 'insert_text', text: '  return x\n' },
    });
    assert.match(errorOf(parseToolCall('insert_text', { text: '' })), /needs "text"/);
    assert.match(errorOf(parseToolCall('find_in_workspace', { query: 3 })), /needs "query"/);
  });

  it('handles every declared tool and refuses unknown ones', () => {
    const sampleArguments: Record<string, Record<string, unknown>> = {
      open_file: { path: 'main.py' },
      go_to_line: { line: 1 },
      find_in_workspace: { query: 'main' },
      run_command: { command: 'undo' },
      insert_text: { text: 'hello' },
    };
    for (const tool of EDITOR_TOOLS) {
      const parsed = parseToolCall(tool.name, sampleArguments[tool.name] ?? {});
      assert.equal(parsed.ok, true, `${tool.name}: ${JSON.stringify(parsed)}`);
    }
    assert.equal(errorOf(parseToolCall('delete_workspace', {})), 'unknown tool "delete_workspace"');
  });
});

describe('fileSearchGlob', () => {
  it('matches the path at any depth, ignoring the case of letters only', () => {
    assert.equal(fileSearchGlob('readme.md'), '**/[rR][eE][aA][dD][mM][eE].[mM][dD]');
    assert.equal(fileSearchGlob('src/a1.py'), '**/[sS][rR][cC]/[aA]1.[pP][yY]');
  });
});

describe('toolOutput', () => {
  it('is JSON the model can read back', () => {
    assert.deepEqual(JSON.parse(toolOutput({ ok: true, line: 42 })), { ok: true, line: 42 });
  });

  it('cuts a long selection at 8,000 characters and says so', () => {
    const output = JSON.parse(toolOutput({ ok: true, file: 'a.py', text: 'x'.repeat(20_000) })) as Record<string, unknown>;
    assert.equal(output['truncated'], true);
    assert.equal(output['text'], `${'x'.repeat(MAX_TEXT_CHARACTERS)}… [cut: 12000 more characters]`);
  });

  it('cuts every other string and every list, at any depth', () => {
    const long = 'p'.repeat(MAX_STRING_CHARACTERS + 1);
    const output = JSON.parse(
      toolOutput({ ok: false, error: long, otherMatches: Array.from({ length: 50 }, () => 'a.py'), nested: { path: long } }),
    ) as { error: string; otherMatches: string[]; nested: { path: string }; truncated: boolean };
    assert.equal(output.truncated, true);
    assert.match(output.error, /… \[cut: 1 more characters\]$/);
    assert.equal(output.error.length, MAX_STRING_CHARACTERS + '… [cut: 1 more characters]'.length);
    assert.equal(output.otherMatches.length, MAX_LIST_ITEMS);
    assert.match(output.nested.path, /cut/);
  });

  it('leaves output within its bounds untouched, without a truncated flag', () => {
    assert.deepEqual(JSON.parse(toolOutput({ ok: true, text: 'short' })), { ok: true, text: 'short' });
  });
});
