import { expect } from '@open-wc/testing';
import { firstValueFrom, filter, type Observable } from 'rxjs';
import { freshRoom, localWorkers, proxyToOpenWorker } from '../test-support/local-workers.js';
import { createRoomClient, type RoomClient } from './room-client.js';
import { selfOf } from './room-state.js';

const clients: RoomClient[] = [];
const client = (server: string, room: string, token?: string) => {
  const created = createRoomClient({ server, room, token });
  clients.push(created);
  return created;
};
const next = <T>(source: Observable<T>, match: (value: T) => boolean) =>
  firstValueFrom(source.pipe(filter(match)));

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('createRoomClient', () => {
  it('joins, and sees others join, change and leave', async () => {
    const { open } = await localWorkers();
    const room = freshRoom('client');
    const ann = client(open, room);
    await next(ann.connection$, (s) => s === 'open');
    await next(ann.state$, (s) => s.selfId !== null);
    expect(ann.join('Ann')).to.be.true;
    const self = await next(ann.self$, (p) => p !== null);
    expect(self).to.include({ name: 'Ann', role: 'host' });

    const bob = client(open, room);
    const bobJoined = next(ann.events$, (e) => e.type === 'participant-joined' && !e.self);
    await next(bob.state$, (s) => s.selfId !== null);
    bob.join('Bob');
    expect(await bobJoined).to.deep.include({ type: 'participant-joined', self: false });

    bob.update({ handRaised: true });
    await next(ann.participants$, (ps) => ps.some((p) => p.name === 'Bob' && p.handRaised));

    const left = next(ann.events$, (e) => e.type === 'participant-left');
    bob.close();
    expect(await left).to.deep.include({ type: 'participant-left', reason: 'left' });
  });

  it('reports an invalid name without sending it', async () => {
    const { open } = await localWorkers();
    const ann = client(open, freshRoom('names'));
    const error = next(ann.errors$, () => true);
    expect(ann.join('   ')).to.be.false;
    expect(await error).to.include({ code: 'invalid-name', fatal: false });
  });

  it('stops for good on a refused token', async () => {
    const { secured } = await localWorkers();
    const ann = client(secured, freshRoom('secured'), 'not-a-token');
    const error = await next(ann.errors$, () => true);
    expect(error).to.include({ code: 'unauthorized', fatal: true });
    await next(ann.connection$, (s) => s === 'failed');
  });

  it('refuses bad options with a typed error', async () => {
    const bad = client('ftp://example', 'room');
    expect(await firstValueFrom(bad.errors$)).to.include({ code: 'invalid-server', fatal: true });
    const badRoom = client('http://127.0.0.1:1', 'no spaces');
    expect(await firstValueFrom(badRoom.errors$)).to.include({ code: 'invalid-room' });
  });

  it('resumes as the same participant after a reconnect, which the others see as reconnecting', async () => {
    const { open } = await localWorkers();
    const room = freshRoom('resume');
    const ann = client(open, room);
    await next(ann.state$, (s) => s.selfId !== null);
    ann.join('Ann');
    ann.update({ handRaised: true });
    const before = await next(ann.self$, (p) => p?.handRaised === true);
    const watcher = client(open, room);
    await next(watcher.participants$, (ps) => ps.length === 1);
    const events: string[] = [];
    const subscription = watcher.events$.subscribe((e) => events.push(e.type));

    ann.reconnect();
    await next(ann.connection$, (s) => s === 'reconnecting');
    await next(ann.connection$, (s) => s === 'open');
    const self = await next(ann.state$, (s) => s.selfId === before!.id && s.participants.length === 1);
    expect(self.participants[0]).to.deep.include({
      id: before!.id,
      name: 'Ann',
      handRaised: true,
      role: 'host',
    });
    await next(watcher.participants$, (ps) => ps[0]?.reconnecting === false);
    subscription.unsubscribe();
    // Reconnecting, then back: never a leave and a join.
    expect(events).to.deep.equal(['participant-updated', 'participant-updated']);
  });

  it('notices a path that silently drops everything, says it is reconnecting and resumes', async () => {
    const proxy = await proxyToOpenWorker();
    const room = freshRoom('silent');
    const ann = createRoomClient({ server: proxy.url, room, silenceTimeoutMs: 1_500 });
    clients.push(ann);
    await next(ann.state$, (s) => s.selfId !== null);
    ann.join('Ann');
    const self = await next(ann.self$, (p) => p !== null);
    await proxy.blackhole();
    await next(ann.connection$, (s) => s === 'reconnecting');
    await proxy.restore();
    await next(ann.connection$, (s) => s === 'open');
    const back = await next(ann.state$, (s) => selfOf(s) !== null);
    expect(back.selfId).to.equal(self!.id);
  });

  it('leaves at once when closed', async () => {
    const { open } = await localWorkers();
    const room = freshRoom('close');
    const ann = client(open, room);
    await next(ann.state$, (s) => s.selfId !== null);
    ann.join('Ann');
    const self = await next(ann.self$, (p) => p !== null);
    const watcher = client(open, room);
    await next(watcher.participants$, (ps) => ps.length === 1);
    const left = next(watcher.events$, (e) => e.type === 'participant-left');
    ann.close();
    const event = await left;
    expect(event).to.deep.include({ type: 'participant-left', reason: 'left' });
    expect(event.type === 'participant-left' && event.participant.id).to.equal(self!.id);
  });
});
