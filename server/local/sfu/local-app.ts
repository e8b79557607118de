/** The app id and secret the local SFU accepts; they guard nothing but are checked like the real ones. */
export const LOCAL_CALLS_APP_ID = 'local';
export const LOCAL_CALLS_APP_SECRET = 'local-calls-secret';
