import { createContext } from '@lit/context';
import type { CallClient } from '../client/call-types.js';

/** `<meet-room>` provides its call (media) client; grid, tiles and controls consume it. */
export const callContext = createContext<CallClient | undefined>(Symbol('meet-call-client'));
