import { createContext } from '@lit/context';
import type { Meeting } from '../client/meeting.js';

/**
 * `<meet-room>` provides its meeting (the headless core, `createMeeting()`);
 * the grid, the tiles and the controls render it. A page with its own
 * element tree can provide one too.
 */
export const meetingContext = createContext<Meeting | undefined>(Symbol('meet-meeting'));
