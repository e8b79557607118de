import { createContext } from '@lit/context';
import type { RoomClient } from '../client/room-client.js';

/** `<meet-room>` provides its room client; elements inside it consume it. */
export const roomContext = createContext<RoomClient | undefined>(Symbol('meet-room-client'));
