/**
 * What a meeting loads when feedback is first asked for: the diagnostics
 * (`diagnostics.ts`) and the feedback API (`feedback-api.ts`). One module,
 * so that the lobby, which does without both, carries one import for them.
 */
export { watchDiagnostics } from './diagnostics.js';
export { sendFeedback } from './feedback-api.js';
