// Generated from server/voicepilot/contract.py by `voicepilot contract-ts`. Do not edit by hand:
// change the pydantic models and regenerate (a test fails when this file is stale).
/* eslint-disable */

export const Methods = {
  startSession: "voicepilot/startSession",
  endSession: "voicepilot/endSession",
  pushToTalk: "voicepilot/pushToTalk",
  setCredentials: "voicepilot/setCredentials",
  runDiagnostics: "voicepilot/runDiagnostics",
  connectionState: "voicepilot/connectionState",
  transcript: "voicepilot/transcript",
  diagnostics: "voicepilot/diagnostics",
  runTool: "voicepilot/runTool",
  listDevices: "voicepilot/listDevices",
  selectDevices: "voicepilot/selectDevices",
  setMute: "voicepilot/setMute",
  audioLevel: "voicepilot/audioLevel",
  deviceState: "voicepilot/deviceState",
  sendText: "voicepilot/sendText",
} as const;

export const CONNECTION_STATES = ["idle", "authenticating", "connecting", "connected", "renewing", "reconnecting", "failed", "closed"] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export interface DeviceInput {
  kind: "device";
  name?: string;
}

export interface FileInput {
  kind: "file";
  path: string;
  maxSeconds?: number;
}

export interface DeviceOutput {
  kind: "device";
  name?: string;
}

export interface NoOutput {
  kind: "none";
}

export interface ToolSpec {
  type?: "function";
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface IceServerSetting {
  urls: Array<string>;
  username?: string;
}

export interface ConnectionSettings {
  endpoint?: string;
  deployment?: string;
  apiVersion?: string;
  apiFlavor?: "ga" | "preview";
  region?: string;
  renewIntervalS?: number;
  maxSessionS?: number;
  transport?: "auto" | "webrtc" | "websocket";
  auth?: "apiKey" | "entra";
  allowedRegions?: Array<string>;
  voice?: string;
  instructions?: string;
  iceServers?: Array<IceServerSetting>;
  iceTransportPolicy?: "all" | "relay";
  proxy?: string;
}

export interface VadSettings {
  threshold?: number;
  prefixPaddingMs?: number;
  silenceDurationMs?: number;
}

export interface SpeechSettings {
  turnDetection?: "server_vad" | "semantic_vad";
  eagerness?: "low" | "medium" | "high" | "auto";
  idleTimeoutMs?: number;
  noiseReduction?: "near_field" | "far_field";
  transcriptionModel?: string;
  transcriptionLanguage?: string;
}

export interface StartSessionParams {
  profile: "local" | "azure" | "openai";
  input?: DeviceInput | FileInput;
  output?: DeviceOutput | NoOutput;
  turnTaking?: "vad" | "pushToTalk";
  vad?: VadSettings;
  bargeIn?: boolean;
  echoCancellation?: boolean;
  mode?: "conversation" | "dictation";
  tools?: Array<ToolSpec>;
  connection?: ConnectionSettings;
  modality?: "voice" | "text";
  speech?: SpeechSettings;
}

export interface StartSessionResult {
  sessionId: string;
}

export interface EndSessionParams {
  sessionId?: string;
}

export interface EndSessionResult {
  ended: boolean;
}

export interface PushToTalkParams {
  pressed: boolean;
}

export interface PushToTalkResult {
  accepted: boolean;
}

export interface SetMuteParams {
  muted: boolean;
}

export interface SetMuteResult {
  muted: boolean;
}

export interface AudioDevice {
  name: string;
  description: string;
  hostApi: string;
  channels: number;
  sampleRate: number;
  isDefault: boolean;
}

export interface ListDevicesParams {
}

export interface ListDevicesResult {
  inputs: Array<AudioDevice>;
  outputs: Array<AudioDevice>;
  selectedInput?: string;
  selectedOutput?: string;
}

export interface SelectDevicesParams {
  input?: string;
  output?: string;
}

export interface SelectDevicesResult {
  selectedInput?: string;
  selectedOutput?: string;
}

export interface SetCredentialsParams {
  apiKey: string | null;
  turnCredential?: string;
}

export interface SetCredentialsResult {
  stored: boolean;
}

export interface RunDiagnosticsParams {
  profile?: "local" | "azure" | "openai";
  connection?: ConnectionSettings;
}

export interface DiagnosticCheck {
  name: string;
  ok: boolean;
  detail: string;
  nextStep?: string;
}

export interface RunDiagnosticsResult {
  checks: Array<DiagnosticCheck>;
}

export interface ConnectionStateParams {
  state: "idle" | "authenticating" | "connecting" | "connected" | "renewing" | "reconnecting" | "failed" | "closed";
  previous: "idle" | "authenticating" | "connecting" | "connected" | "renewing" | "reconnecting" | "failed" | "closed";
  reason?: string;
  errorKind?: "auth" | "quota" | "network" | "media" | "device" | "protocol" | "config";
  sessionId?: string;
}

export interface TranscriptParams {
  role: "user" | "assistant";
  itemId: string;
  text: string;
  final: boolean;
  sessionId?: string;
}

export interface DiagnosticsParams {
  sessionId?: string;
  message?: string;
  errorKind?: "auth" | "quota" | "network" | "media" | "device" | "protocol" | "config";
  stats?: Record<string, number>;
  aiortcHooks?: string;
  pyaecHooks?: string;
}

export interface RunToolParams {
  callId: string;
  name: string;
  arguments: Record<string, unknown>;
  sessionId?: string;
}

export interface RunToolResult {
  output: string;
}

export interface AudioLevelParams {
  sessionId?: string;
  inputDbfs: number;
  outputDbfs: number;
  micOpen: boolean;
  muted: boolean;
  assistantSpeaking: boolean;
  inputDevice?: string;
  outputDevice?: string;
}

export interface DeviceStateParams {
  sessionId?: string;
  kind: "input" | "output";
  state: "active" | "fallback" | "paused";
  previous: "active" | "fallback" | "paused";
  device?: string;
  message: string;
  errorKind?: "auth" | "quota" | "network" | "media" | "device" | "protocol" | "config";
}

export interface SendTextParams {
  text: string;
  sessionId?: string;
}

export interface SendTextResult {
  accepted: boolean;
}

export type AudioInput = DeviceInput | FileInput;
export type AudioOutput = DeviceOutput | NoOutput;

export const EDITOR_TOOLS: ReadonlyArray<ToolSpec> = [
  {
    "name": "open_file",
    "description": "Open a file of the workspace in the editor.",
    "parameters": {
      "type": "object",
      "properties": {
        "path": {
          "type": "string",
          "description": "Workspace-relative path or file name, e.g. main.py",
          "examples": [
            "main.py",
            "setup.py",
            "test.py",
            "readme.md",
            "package.json",
            "index.ts"
          ]
        }
      },
      "required": [
        "path"
      ]
    }
  },
  {
    "name": "go_to_line",
    "description": "Move the cursor to a line of the active editor.",
    "parameters": {
      "type": "object",
      "properties": {
        "line": {
          "type": "integer",
          "minimum": 1,
          "description": "1-based line number"
        }
      },
      "required": [
        "line"
      ]
    }
  },
  {
    "name": "find_in_workspace",
    "description": "Search the workspace for text and show the results.",
    "parameters": {
      "type": "object",
      "properties": {
        "query": {
          "type": "string",
          "description": "Text to search for",
          "examples": [
            "config",
            "todo",
            "main",
            "test",
            "error"
          ]
        }
      },
      "required": [
        "query"
      ]
    }
  },
  {
    "name": "run_command",
    "description": "Run an allowlisted editor command.",
    "parameters": {
      "type": "object",
      "properties": {
        "command": {
          "type": "string",
          "description": "Spoken name of the command",
          "enum": [
            "format document",
            "toggle terminal",
            "close editor",
            "new terminal",
            "undo"
          ]
        }
      },
      "required": [
        "command"
      ]
    }
  },
  {
    "name": "insert_text",
    "description": "Insert text at the cursor as one undoable edit.",
    "parameters": {
      "type": "object",
      "properties": {
        "text": {
          "type": "string",
          "description": "Text to insert",
          "examples": [
            "hello world",
            "todo"
          ]
        }
      },
      "required": [
        "text"
      ]
    }
  },
  {
    "name": "save_all",
    "description": "Save all open files.",
    "parameters": {
      "type": "object",
      "properties": {},
      "required": []
    }
  },
  {
    "name": "explain_selection",
    "description": "Return the selected code (or the current line) so the assistant can explain it.",
    "parameters": {
      "type": "object",
      "properties": {},
      "required": []
    }
  }
];
