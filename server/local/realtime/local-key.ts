/** The API key the local realtime stand-in accepts; it guards nothing but is checked like a real one. */
export const LOCAL_OPENAI_API_KEY = 'local-openai-key';

/** The Worker variables that point it at a local realtime stand-in. */
export function localOpenAiVars(openAiApiUrl: string): Record<string, string> {
  return { OPENAI_API_KEY: LOCAL_OPENAI_API_KEY, OPENAI_API_URL: openAiApiUrl };
}
