/**
 * Local SFU CPU per forwarded 640×480@30 stream: the SFU runs in a process
 * of its own; one page publishes its camera, N pages subscribe, and we read
 * the SFU's CPU time from /proc over a window while frames keep arriving.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { localCallsVars } from '../server/local/sfu/local-app.js';
import { chromiumArgs, findChromium } from '../server/local/dev/chromium.js';
import { stopProcessGroup, trackProcessGroup } from '../server/local/dev/processes.js';
import type { StaticServer } from '../server/local/dev/static-server.js';
import { freePort, projectRoot, startLocalWorker } from '../server/local/dev/worker.js';

export interface SfuCpuResult {
  streams: number;
  windowSeconds: number;
  /** Share of one core used by the SFU process over the window, in %. */
  cpuPercent: number;
  cpuPercentPerStream: number;
  packetsPerSecondPerStream: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line; 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export async function measureSfuCpu(
  hostSite: StaticServer,
  subscribers: number,
  windowSeconds: number,
): Promise<SfuCpuResult> {
  const port = await freePort();
  const sfu = spawn(
    process.execPath,
    ['--import', 'tsx', join(projectRoot, 'server/local/sfu/main.ts'), String(port)],
    {
      cwd: projectRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  trackProcessGroup(sfu);
  const sfuUrl = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    sfu.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('CALLS_API_URL') && resolve());
    sfu.once('exit', () => reject(new Error('local SFU exited')));
  });
  const worker = await startLocalWorker({ vars: localCallsVars(`${sfuUrl}/v1`) });
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: chromiumArgs({ media: true, fps: 30 }),
  });
  try {
    const room = `cpu-${Date.now()}`;
    const open = async (name: string, camera: boolean): Promise<Page> => {
      const page = await (await browser.newContext({ permissions: ['camera', 'microphone'] })).newPage();
      await page.goto(`${hostSite.url}/?${new URLSearchParams({ room, server: worker.url }).toString()}`);
      if (camera) await page.getByRole('button', { name: /^Camera/ }).click();
      await page.getByLabel('Your name').fill(name);
      await page.getByRole('button', { name: 'Join' }).click();
      await page.locator('meet-participant-grid meet-participant-tile[local]').waitFor();
      return page;
    };
    await open('Publisher', true);
    const pages: Page[] = [];
    for (let i = 0; i < subscribers; i++) pages.push(await open(`Viewer ${i + 1}`, false));
    for (const page of pages) {
      await page
        .locator('meet-participant-grid meet-participant-tile:not([local]):not([camera-off])')
        .waitFor({ timeout: 20_000 });
    }
    // Let bandwidth estimation settle at 640×480 before measuring.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stats = async () =>
      (await (await fetch(`${sfuUrl}/__local/stats`)).json()) as { forwardedPackets: number };
    const cpuBefore = cpuSeconds(sfu.pid!);
    const packetsBefore = (await stats()).forwardedPackets;
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowSeconds * 1000));
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(sfu.pid!) - cpuBefore;
    const packets = (await stats()).forwardedPackets - packetsBefore;
    const cpuPercent = (cpu / elapsed) * 100;
    return {
      streams: subscribers,
      windowSeconds: elapsed,
      cpuPercent,
      cpuPercentPerStream: cpuPercent / subscribers,
      packetsPerSecondPerStream: packets / elapsed / subscribers,
    };
  } finally {
    await browser.close();
    await worker.stop();
    await stopProcessGroup(sfu);
  }
}
