import { DurableObject } from 'cloudflare:workers';
export class Room extends DurableObject {}
export default { fetch: (req: Request, env: { ASSETS: Fetcher }) => env.ASSETS.fetch(req) };
