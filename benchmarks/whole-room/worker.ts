/**
 * The baseline the fan-out benchmark measures Meetkit's deltas against: the
 * same Worker and room, except that every change sends every connection the
 * whole room, as Orange does. It lives here, not in the production class.
 */
import type { ServerMessage } from '../../src/protocol/index.js';
import type { Broadcast, BroadcastTarget } from '../../server/room/broadcaster.js';
import { Room as DeltaRoom } from '../../server/room/room.js';

export { default } from '../../server/index.js';

/** Messages that change what a snapshot shows. */
const ROOM_CHANGES = new Set<ServerMessage['type']>([
  'participant-joined',
  'participant-updated',
  'participant-left',
  'participant-moderated',
  'lobby-count',
  'meeting-started',
]);

class WholeRoomBroadcast implements Broadcast {
  constructor(private readonly target: BroadcastTarget) {}

  toAll(message: ServerMessage, exceptId?: string): number {
    if (ROOM_CHANGES.has(message.type)) return this.#everyone();
    const frame = JSON.stringify(message);
    let sent = 0;
    for (const { id, ws } of this.target.recipients()) {
      if (id === exceptId) continue;
      ws.send(frame);
      sent += 1;
    }
    return sent;
  }

  participantChanged(): void {
    this.#everyone();
  }

  lobbyChanged(): void {
    this.#everyone();
  }

  forget(): void {}

  settle(): void {}

  flush(): void {}

  #everyone(): number {
    let sent = 0;
    for (const { id, ws } of this.target.recipients()) {
      const frame = this.target.snapshotFor(id);
      if (!frame) continue;
      ws.send(frame);
      sent += 1;
    }
    return sent;
  }
}

export class Room extends DeltaRoom {
  protected override createBroadcast(target: BroadcastTarget): Broadcast {
    return new WholeRoomBroadcast(target);
  }
}
