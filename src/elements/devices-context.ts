import { createContext } from '@lit/context';
import type { Devices } from '../client/devices.js';

/** `<meet-room>` provides its device manager; `<meet-device-picker>` consumes it (or makes its own). */
export const devicesContext = createContext<Devices | undefined>(Symbol('meet-devices'));
