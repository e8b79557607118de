/** The app id and secret the local SFU accepts; they guard nothing but are checked like the real ones. */
export const LOCAL_CALLS_APP_ID = 'local';
export const LOCAL_CALLS_APP_SECRET = 'local-calls-secret';

/** The Worker variables that point it at a local SFU. */
export function localCallsVars(callsApiUrl: string): Record<string, string> {
  return {
    CALLS_APP_ID: LOCAL_CALLS_APP_ID,
    CALLS_APP_SECRET: LOCAL_CALLS_APP_SECRET,
    CALLS_API_URL: callsApiUrl,
  };
}
