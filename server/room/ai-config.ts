/**
 * The AI agent's settings, from the Worker variables (server/env.ts). No
 * `OPENAI_API_KEY` or no Calls app: this server has no AI, and rooms say so.
 */
import { displayName } from '../../src/protocol/index.js';
import type { OpenAiRealtimeOptions, RealtimeSessionOptions } from '../ai/openai-realtime.js';
import type { Env } from '../env.js';
import { numberVar } from './limits.js';
import { callsClientFor } from './media-gateway.js';

/** `host`: hosts invite and remove the AI, anyone talks to it; `anyone`: everyone does everything. */
export type AiPolicy = 'host' | 'anyone';

export interface AiConfig {
  openai: OpenAiRealtimeOptions;
  session: RealtimeSessionOptions;
  /** The agent's display name. */
  name: string;
  policy: AiPolicy;
  /** The longest one holds push-to-talk before the room ends the turn. */
  maxTalkMs: number;
  /** The agent leaves after this long without a turn. */
  idleMs: number;
  /** The longest one request to OpenAI, or opening its control socket, may take. */
  timeoutMs: number;
}

export function aiConfig(env: Env): AiConfig | null {
  if (!env.OPENAI_API_KEY || !callsClientFor(env)) return null;
  const name = displayName.safeParse(env.AI_NAME ?? 'AI');
  const timeoutMs = numberVar(env.AI_TIMEOUT_SECONDS, 10) * 1_000;
  return {
    openai: { apiKey: env.OPENAI_API_KEY, baseUrl: env.OPENAI_API_URL || undefined, timeoutMs },
    session: {
      model: env.AI_MODEL || undefined,
      voice: env.AI_VOICE || undefined,
      instructions: env.AI_INSTRUCTIONS || undefined,
    },
    name: name.success ? name.data : 'AI',
    policy: env.AI_POLICY === 'anyone' ? 'anyone' : 'host',
    maxTalkMs: numberVar(env.AI_MAX_TALK_SECONDS, 60) * 1_000,
    idleMs: numberVar(env.AI_IDLE_MINUTES, 10) * 60_000,
    timeoutMs,
  };
}
